import { htmlToText } from './html.js';

/**
 * nbformat stores text mime values as a string or an array of strings (joined with '').
 * Returns undefined for anything else.
 */
function mimeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((part) => typeof part === 'string')) return value.join('');
  return undefined;
}

/** `application/json` is normally an object; tolerate a pre-serialised string. */
function jsonText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2);
}

/**
 * Render an `execute_result` / `display_data` mime bundle as text for the agent.
 *
 * Preference order: `text/plain` (returned verbatim, even if empty);
 * `text/markdown` as is; `text/html` converted by {@link htmlToText};
 * `text/latex` as is; `application/json` as `JSON.stringify(value, null, 2)`;
 * `image/svg+xml` as `[SVG image, N bytes]` (N = UTF-8 byte length).
 * Returns undefined when none is present (e.g. only `image/png`/`image/jpeg`,
 * which are handled elsewhere).
 */
export function renderMimeBundleAsText(data: Record<string, unknown>): string | undefined {
  const plain = mimeText(data['text/plain']);
  if (plain !== undefined) return plain;

  const markdown = mimeText(data['text/markdown']);
  if (markdown !== undefined) return markdown;

  const html = mimeText(data['text/html']);
  if (html !== undefined) return htmlToText(html);

  const latex = mimeText(data['text/latex']);
  if (latex !== undefined) return latex;

  const json = jsonText(data['application/json']);
  if (json !== undefined) return json;

  const svg = mimeText(data['image/svg+xml']);
  if (svg !== undefined) return `[SVG image, ${Buffer.byteLength(svg, 'utf8')} bytes]`;

  return undefined;
}
