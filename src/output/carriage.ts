import { stripTerminalControls } from './ansi.js';

/** True for a UTF-16 high (leading) surrogate code unit. */
function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** True for a UTF-16 low (trailing) surrogate code unit. */
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Apply `\b` within one line (no `\r`, no `\n`): each deletes the previous character, if any. */
function applyBackspaces(line: string): string {
  if (!line.includes('\b')) return line;
  const kept: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code !== 0x08) {
      kept.push(code);
      continue;
    }
    const last = kept.pop();
    // Why: deleting a "character" must remove both halves of a surrogate pair.
    if (last !== undefined && isLowSurrogate(last) && isHighSurrogate(kept[kept.length - 1] ?? 0)) {
      kept.pop();
    }
  }
  let out = '';
  // Why chunked: String.fromCharCode(...bigArray) would overflow the call stack.
  for (let i = 0; i < kept.length; i += 8192) {
    out += String.fromCharCode(...kept.slice(i, i + 8192));
  }
  return out;
}

/** Resolve `\r` and `\b` inside one line (the text between two `\n`). */
function resolveLine(line: string): string {
  if (!line.includes('\r')) return applyBackspaces(line);
  let end = line.length;
  // Why: `\r\n` (and `\r\r\n`) is a newline, and a trailing `\r` at the end of a chunk keeps the line.
  while (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--;
  const start = line.lastIndexOf('\r', end - 1) + 1;
  // JupyterLab semantics: the text after the last `\r` replaces the whole line.
  return applyBackspaces(line.slice(start, end));
}

/**
 * Emulate a terminal line the way JupyterLab renders stream output.
 *
 * - `\r\n` is a newline.
 * - A lone `\r` returns to line start; the text after the LAST `\r` on a line
 *   replaces the entire line (even if shorter), e.g. `"10%\r20%\r100%\n"` → `"100%\n"`.
 * - A trailing `\r` at the very end of `text` keeps the current line content,
 *   so a still-running progress bar shows its latest state.
 * - `\b` deletes the previous character on the same line (never a newline).
 *
 * Linear time in `text.length`. Other control characters are left untouched.
 */
export function applyCarriageReturnsAndBackspaces(text: string): string {
  if (!text.includes('\r') && !text.includes('\b')) return text;
  return text.split('\n').map(resolveLine).join('\n');
}

/**
 * Clean stream text for what the agent sees: {@link stripTerminalControls},
 * then {@link applyCarriageReturnsAndBackspaces}, then drop any stray `\r`/`\b`.
 */
export function cleanStreamText(text: string): string {
  return applyCarriageReturnsAndBackspaces(stripTerminalControls(text)).replace(/[\r\x08]/g, '');
}
