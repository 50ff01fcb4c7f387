import type { Output } from '../notebook/types.js';
import { stripTerminalControls } from './ansi.js';
import { cleanStreamText } from './carriage.js';
import { renderMimeBundleAsText } from './mime.js';
import { fitImage, isRefusal, type ImageLimits } from './images.js';
import { wellFormed } from './wellFormed.js';
import { truncateMiddle } from './truncate.js';

export type AgentContent = { type: 'text'; text: string } | { type: 'image'; data: string; mimeType: 'image/png' | 'image/jpeg' };

export interface AgentViewOptions {
  /** Characters of text the agent gets per call, after cleaning. */
  textBudget: number;
  /** Images the agent gets per call; the rest are counted in a note. */
  maxImages: number;
  /** Names the notebook cell in the truncation marker. */
  cellLabel: string;
  /** Size limits of each image the agent gets; unlimited when absent. */
  imageLimits?: ImageLimits;
  /** Where what the agent does not get is kept, in the markers; default: "<cellLabel> of the notebook" (a scratch run's is nowhere). */
  keptIn?: string;
  /** Where the whole text can be read (the cell-output resource); the truncation marker names it. */
  fullOutputUri?: string;
}

/** What the agent gets, and whether the text budget cut anything out of it. */
export interface AgentView {
  content: AgentContent[];
  truncated: boolean;
}

const AGENT_IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;

/** An image of a cell's outputs, not yet checked against the limits. */
export type AgentImage = Extract<AgentContent, { type: 'image' }> & {
  /** 1-based position among the cell's images, for the note when it is not shown. */
  figure?: number;
};

export interface AgentParts {
  /** Clean text of all outputs, in order, not yet budgeted. */
  text: string;
  images: AgentImage[];
}

/**
 * What the agent sees of a cell's outputs, before the budget: clean text (no terminal control
 * sequences, progress bars collapsed), errors as `ename: evalue` plus the traceback, and
 * png/jpeg images.
 *
 * The text is always well-formed Unicode with no control characters but `\n` and `\t`: kernels
 * send lone surrogates, NULs and raw binary (see {@link agentText}).
 */
export function agentParts(outputs: readonly Output[]): AgentParts {
  const textParts: string[] = [];
  const images: AgentParts['images'] = [];
  for (const output of outputs) {
    switch (output.output_type) {
      case 'stream':
        textParts.push(agentText(joinText(output.text)));
        break;
      case 'error': {
        const traceback = Array.isArray(output.traceback) ? output.traceback.map((line) => String(line)).join('\n') : '';
        textParts.push(agentValueText(`${String(output.ename)}: ${String(output.evalue)}${traceback ? `\n${traceback}` : ''}\n`));
        break;
      }
      case 'execute_result':
      case 'display_data': {
        const data = (output.data ?? {}) as Record<string, unknown>;
        const imageType = AGENT_IMAGE_TYPES.find((type) => typeof data[type] === 'string' || Array.isArray(data[type]));
        if (imageType) {
          images.push({ type: 'image', mimeType: imageType, data: joinText(data[imageType]).replace(/\s+/g, ''), figure: images.length + 1 });
          break;
        }
        const text = renderMimeBundleAsText(data);
        if (text !== undefined) textParts.push(ensureNewline(agentValueText(text)));
        break;
      }
      default:
        break;
    }
  }
  return { text: textParts.join(''), images };
}

/**
 * Applies the budget: text cut in the middle with a marker, at most `maxImages` images, each
 * fitted to the image limits (off the event loop: see {@link fitImage}).
 */
export async function budgetAgentParts(parts: AgentParts, options: AgentViewOptions): Promise<AgentContent[]> {
  return (await budgetAgentView(parts, options)).content;
}

/** {@link budgetAgentParts}, also saying whether the text was cut. */
export async function budgetAgentView(parts: AgentParts, options: AgentViewOptions): Promise<AgentView> {
  let text = parts.text;
  const skipped = Math.max(0, parts.images.length - options.maxImages);
  if (skipped > 0) text += `[${skipped} more image(s) not shown; they are in ${keptIn(options)}]\n`;
  const images: Array<Extract<AgentContent, { type: 'image' }>> = [];
  const notes: string[] = [];
  for (const [position, image] of parts.images.slice(0, options.maxImages).entries()) {
    if (!options.imageLimits) {
      images.push({ type: 'image', mimeType: image.mimeType, data: image.data });
      continue;
    }
    // One at a time: a cell of many figures holds one decoded bitmap and one pool thread, not all of them.
    const fitted = await fitImage(image.data, image.mimeType, options.imageLimits);
    if (isRefusal(fitted)) {
      const size = fitted.width === undefined ? '' : ` (${fitted.width}×${fitted.height} px)`;
      text += `[figure ${image.figure ?? position + 1}${size} not shown: ${fitted.reason}; it is in ${keptIn(options)}]\n`;
      continue;
    }
    images.push({ type: 'image', mimeType: fitted.mimeType, data: fitted.data });
    if (fitted.changed) notes.push(`image scaled to ${fitted.width}×${fitted.height} for you`);
  }
  if (notes.length) text += `[${notes.join('; ')}; the originals are in ${keptIn(options)}]\n`;
  const content: AgentContent[] = [];
  let truncated = false;
  if (text.trim() !== '') {
    const whereAll = options.fullOutputUri ? ` and page by page in the resource ${options.fullOutputUri}` : '';
    const cut = truncateMiddle(
      text.replace(/\n+$/, ''),
      options.textBudget,
      (chars, lines) => `[... ${chars} characters (${lines} lines) left out; the full output is in ${keptIn(options)}${whereAll} ...]`,
    );
    truncated = cut.truncated;
    // Why again: callers slice parts.text (cellResult drops what was seen); this is the last gate.
    content.push({ type: 'text', text: wellFormed(cut.text) });
  }
  content.push(...images);
  return { content, truncated };
}

/** Everything at once: what the agent sees of these outputs, within the budget. */
export function toAgentContent(outputs: readonly Output[], options: AgentViewOptions): Promise<AgentContent[]> {
  return budgetAgentParts(agentParts(outputs), options);
}

/**
 * Stream text as the agent gets it: terminal controls stripped, `\r`/`\b` applied as a terminal
 * would, lone surrogates replaced by U+FFFD. NUL and the other C0 controls are removed rather
 * than shown (as `\x00` or ␀): a terminal and JupyterLab show nothing for them either, and binary
 * dumped to stdout would otherwise spend the text budget on escapes; the U+FFFD that invalid
 * UTF-8 already became still tells the agent that binary was printed.
 */
export function agentText(text: string): string {
  return wellFormed(cleanStreamText(text));
}

/**
 * Error and mime-bundle text as the agent gets it: like {@link agentText}, but a `\r` is a line
 * break, not an overwrite: progress bars live in streams, and an overwrite here would erase an
 * exception's name from its message.
 */
export function agentValueText(text: string): string {
  return wellFormed(stripTerminalControls(text).replace(/\r\n?/g, '\n').replace(/\x08/g, ''));
}

export function joinText(value: unknown): string {
  if (Array.isArray(value)) return value.join('');
  return typeof value === 'string' ? value : '';
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function keptIn(options: AgentViewOptions): string {
  return options.keptIn ?? `${options.cellLabel} of the notebook`;
}
