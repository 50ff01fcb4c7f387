/**
 * Compact plain-text rendering of HTML for an agent (not a full HTML parser).
 *
 * Every step is a forward scan or a regex with bounded, disjoint classes, so
 * the cost is linear in the input even for malformed HTML.
 */

/** Named entities we decode; everything else is left verbatim. */
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  // Why a plain space: agents gain nothing from U+00A0 and it breaks naive text matching.
  nbsp: ' ',
};

/** Decode `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric `&#39;` / `&#x27;` in one pass (no double decoding). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** Remove `<!-- ... -->` comments; an unterminated comment runs to the end. */
function removeComments(html: string): string {
  let out = '';
  let pos = 0;
  for (let open = html.indexOf('<!--'); open >= 0; open = html.indexOf('<!--', pos)) {
    out += html.slice(pos, open);
    const close = html.indexOf('-->', open + 4);
    if (close < 0) return out;
    pos = close + 3;
  }
  return out + html.slice(pos);
}

/** A `<tag ...>...</tag>` element located in the source. */
interface Element {
  start: number;
  contentStart: number;
  contentEnd: number;
  end: number;
}

/** Find non-nested elements named by `tags` (e.g. `script|style`); unclosed ones run to the end. */
function findElements(html: string, tags: string): Element[] {
  // Why `[^<>]*`: the attribute scan stops at the next `<`, keeping the search linear.
  const openRe = new RegExp(`<(?:${tags})\\b[^<>]*>`, 'gi');
  const closeRe = new RegExp(`</(?:${tags})\\s*>`, 'gi');
  const found: Element[] = [];
  let open: RegExpExecArray | null;
  while ((open = openRe.exec(html)) !== null) {
    const contentStart = open.index + open[0].length;
    closeRe.lastIndex = contentStart;
    const close = closeRe.exec(html);
    const contentEnd = close ? close.index : html.length;
    const end = close ? close.index + close[0].length : html.length;
    found.push({ start: open.index, contentStart, contentEnd, end });
    openRe.lastIndex = end;
  }
  return found;
}

/** Drop `<script>` and `<style>` elements including their contents. */
function removeScriptsAndStyles(html: string): string {
  let out = '';
  let pos = 0;
  for (const el of findElements(html, 'script|style')) {
    out += html.slice(pos, el.start);
    pos = el.end;
  }
  return out + html.slice(pos);
}

/** Remove all remaining tags (a `<` must be followed by a letter, `/`, `!` or `?` to count as a tag). */
function removeTags(html: string): string {
  return html.replace(/<[a-zA-Z/!?][^<>]*>/g, '');
}

/** Placeholder for a table-cell boundary; NUL cannot survive in rendered HTML text. */
const CELL = '\u0000';

/** Render flowing (non-`<pre>`) HTML: collapse whitespace, map block/cell tags, strip tags. */
function renderFlow(html: string): string {
  const text = html
    .replace(/\u0000/g, '')
    // Why: like a browser, source whitespace (incl. newlines) is insignificant outside <pre>.
    .replace(/\s+/g, ' ')
    .replace(/<br\b[^<>]*>/gi, '\n')
    .replace(/<\/(?:p|div|tr|li|h[1-6]|table|ul|ol|blockquote|caption|dt|dd)\s*>/gi, '\n')
    .replace(/<\/t[dh]\s*>/gi, CELL);
  return decodeEntities(removeTags(text)).split('\n').map(renderFlowLine).join('\n');
}

/** Trim a rendered line and turn cell boundaries into ` | ` (none after the row's last cell). */
function renderFlowLine(line: string): string {
  let end = line.length;
  // Why: the row's last cell boundary would otherwise leave a dangling separator.
  while (end > 0 && (line[end - 1] === CELL || line[end - 1] === ' ')) end--;
  return line
    .slice(0, end)
    .trim()
    .split(CELL)
    .map((cell) => cell.trim())
    .join(' | ')
    .trim();
}

/** Render `<pre>` content: keep whitespace, honour `<br>`, strip tags. */
function renderPre(html: string): string {
  return decodeEntities(removeTags(html.replace(/<br\b[^<>]*>/gi, '\n')));
}

/**
 * Convert HTML to compact plain text: drops comments and `<script>`/`<style>`
 * contents; `<br>`, `</p>`, `</div>`, `</tr>`, `</li>`, `</h1-6>`, `</table>` end a line;
 * `</td>`/`</th>` become ` | `; `<pre>` whitespace is preserved; common and
 * numeric entities are decoded; runs of blank lines collapse to one blank line;
 * the result is trimmed.
 */
export function htmlToText(html: string): string {
  const source = removeScriptsAndStyles(removeComments(html));
  const parts: string[] = [];
  let pos = 0;
  for (const pre of findElements(source, 'pre')) {
    parts.push(renderFlow(source.slice(pos, pre.start)));
    parts.push(`\n${renderPre(source.slice(pre.contentStart, pre.contentEnd))}\n`);
    pos = pre.end;
  }
  parts.push(renderFlow(source.slice(pos)));
  return parts
    .join('')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
