import type { Output } from '../notebook/types.js';
import { stripTerminalControls } from './ansi.js';
import { cleanStreamText } from './carriage.js';
import { renderMimeBundleAsText } from './mime.js';
import { fitImage, type ImageLimits } from './images.js';
import { truncateMiddle } from './truncate.js';

export type AgentContent =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: 'image/png' | 'image/jpeg' };

export interface AgentViewOptions {
  /** Characters of text the agent gets per call, after cleaning. */
  textBudget: number;
  /** Images the agent gets per call; the rest are counted in a note. */
  maxImages: number;
  /** Names the notebook cell in the truncation marker. */
  cellLabel: string;
  /** Size limits of each image the agent gets; unlimited when absent. */
  imageLimits?: ImageLimits;
}

const AGENT_IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;

export interface AgentParts {
  /** Clean text of all outputs, in order, not yet budgeted. */
  text: string;
  images: Array<Extract<AgentContent, { type: 'image' }>>;
}

/**
 * What the agent sees of a cell's outputs, before the budget: clean text (no terminal control
 * sequences, progress bars collapsed), errors as `ename: evalue` plus the traceback, and
 * png/jpeg images.
 */
export function agentParts(outputs: readonly Output[]): AgentParts {
  const textParts: string[] = [];
  const images: AgentParts['images'] = [];
  for (const output of outputs) {
    switch (output.output_type) {
      case 'stream':
        textParts.push(cleanStreamText(joinText(output.text)));
        break;
      case 'error': {
        const traceback = Array.isArray(output.traceback) ? output.traceback.map((line) => stripTerminalControls(String(line))).join('\n') : '';
        textParts.push(`${String(output.ename)}: ${String(output.evalue)}${traceback ? `\n${traceback}` : ''}\n`);
        break;
      }
      case 'execute_result':
      case 'display_data': {
        const data = (output.data ?? {}) as Record<string, unknown>;
        const imageType = AGENT_IMAGE_TYPES.find((type) => typeof data[type] === 'string' || Array.isArray(data[type]));
        if (imageType) {
          images.push({ type: 'image', mimeType: imageType, data: joinText(data[imageType]).replace(/\s+/g, '') });
          break;
        }
        const text = renderMimeBundleAsText(data);
        if (text !== undefined) textParts.push(ensureNewline(stripTerminalControls(text)));
        break;
      }
      default:
        break;
    }
  }
  return { text: textParts.join(''), images };
}

/** Applies the budget: text cut in the middle with a marker, at most `maxImages` images. */
export function budgetAgentParts(parts: AgentParts, options: AgentViewOptions): AgentContent[] {
  let text = parts.text;
  const skipped = Math.max(0, parts.images.length - options.maxImages);
  if (skipped > 0) text += `[${skipped} more image(s) not shown; they are in ${options.cellLabel} of the notebook]\n`;
  const images: AgentParts['images'] = [];
  const notes: string[] = [];
  for (const image of parts.images.slice(0, options.maxImages)) {
    if (!options.imageLimits) {
      images.push(image);
      continue;
    }
    const fitted = fitImage(image.data, image.mimeType, options.imageLimits);
    if (!fitted) {
      notes.push('an image could not be decoded or made small enough to show');
      continue;
    }
    images.push({ type: 'image', mimeType: fitted.mimeType, data: fitted.data });
    if (fitted.changed) notes.push(`image scaled to ${fitted.width}×${fitted.height} for you`);
  }
  if (notes.length) text += `[${notes.join('; ')}; the originals are in ${options.cellLabel} of the notebook]\n`;
  const content: AgentContent[] = [];
  if (text.trim() !== '') {
    const cut = truncateMiddle(text.replace(/\n+$/, ''), options.textBudget, (chars, lines) =>
      `[... ${chars} characters (${lines} lines) left out; the full output is in ${options.cellLabel} of the notebook ...]`,
    );
    content.push({ type: 'text', text: cut.text });
  }
  content.push(...images);
  return content;
}

/** Everything at once: what the agent sees of these outputs, within the budget. */
export function toAgentContent(outputs: readonly Output[], options: AgentViewOptions): AgentContent[] {
  return budgetAgentParts(agentParts(outputs), options);
}

export function joinText(value: unknown): string {
  if (Array.isArray(value)) return value.join('');
  return typeof value === 'string' ? value : '';
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
