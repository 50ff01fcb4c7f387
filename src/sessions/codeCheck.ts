import { JlabError } from '../util/errors.js';

/**
 * Refuses code no kernel can run, before it reaches one. A NUL character makes ipykernel fail
 * inside its message handler without ever replying; an unpaired UTF-16 surrogate cannot be
 * encoded as UTF-8 on the way. Inside string literals both can be written as escapes.
 */
export function assertRunnableCode(code: string): void {
  const nul = code.indexOf('\0');
  if (nul >= 0) {
    throw new JlabError('INVALID_ARGUMENT', `The code contains a NUL character (${where(code, nul)}); kernels cannot compile source with NUL bytes.`, {
      hint: "Write it as an escape inside a string literal instead (Python: '\\x00' or '\\0'), or read binary data from a file.",
    });
  }
  const at = firstLoneSurrogate(code);
  if (at >= 0) {
    const unit = code.charCodeAt(at).toString(16).padStart(4, '0');
    throw new JlabError(
      'INVALID_ARGUMENT',
      `The code contains an unpaired UTF-16 surrogate U+${unit.toUpperCase()} (${where(code, at)}); it cannot be sent to the kernel as UTF-8.`,
      {
        hint: `Write it as an escape inside a string literal instead (Python: '\\u${unit}'), or use the intended character.`,
      },
    );
  }
}

function where(code: string, offset: number): string {
  const before = code.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
  }
  return -1;
}
