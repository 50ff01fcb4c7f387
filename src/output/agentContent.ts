import type { Output } from '../notebook/types.js';
import { stripTerminalControls } from './ansi.js';
import { cleanStreamText } from './carriage.js';
import { renderMimeBundleAsText } from './mime.js';
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
}

const AGENT_IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;

/**
 * What the agent sees of a cell's outputs: clean text (no terminal control sequences, progress
 * bars collapsed), errors as `ename: evalue` plus the traceback, and png/jpeg images. The
 * notebook keeps the full outputs; this view is budgeted.
 */
export function toAgentContent(outputs: readonly Output[], options: AgentViewOptions): AgentContent[] {
  const textParts: string[] = [];
  const images: AgentContent[] = [];
  let skippedImages = 0;
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
          if (images.length < options.maxImages) {
            images.push({ type: 'image', mimeType: imageType, data: joinText(data[imageType]).replace(/\s+/g, '') });
          } else {
            skippedImages++;
          }
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
  if (skippedImages > 0) {
    textParts.push(`[${skippedImages} more image(s) not shown; they are in ${options.cellLabel} of the notebook]\n`);
  }
  const text = textParts.join('');
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

export function joinText(value: unknown): string {
  if (Array.isArray(value)) return value.join('');
  return typeof value === 'string' ? value : '';
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
