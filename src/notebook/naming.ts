import { open } from 'node:fs/promises';
import path from 'node:path';
import { JlabError } from '../util/errors.js';

/** Longest stem `sanitizeStem` returns, in characters (code points). */
const MAX_STEM_CHARS = 80;
/**
 * Longest stem a file is created with, in UTF-8 bytes: with `-9999` and `.ipynb` the name stays
 * under the 255-byte limit of common filesystems, also for `<stem>_continued` of a long name.
 */
const MAX_STEM_BYTES = 200;
/** Names Windows reserves in every directory; a notebook dir on an SMB share must not get them. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/**
 * A safe file stem from what the agent calls its experiment: letters and digits of any script
 * (NFC, combining marks on them), `.`, `_`, `-`; every other run of characters (slashes, spaces,
 * NUL, emoji, controls) becomes one `_`; a trailing `.ipynb` is dropped; runs of separators collapse (so no `..` survives); no leading or trailing
 * separator (no hidden files); at most 80 characters and 200 bytes. Never empty: `notebook`.
 */
export function sanitizeStem(name: string): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/\.ipynb$/i, '')
    // Invisible selectors and joiners go; a combining mark stays only on a letter or digit.
    .replace(/[\u034F\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu, '')
    .replace(/(?<![\p{L}\p{N}\p{M}])\p{M}+/gu, '_')
    .replace(/[^\p{L}\p{M}\p{N}._-]+/gu, '_')
    .replace(/[._-]{2,}/g, '_');
  const stem = trimSeparators(fitBytes(trimSeparators(cleaned), MAX_STEM_CHARS, MAX_STEM_BYTES));
  if (!stem) return 'notebook';
  return RESERVED.test(stem) ? `${stem}_` : stem;
}

/** Without leading and trailing `.`, `_`, `-` (a leading dot would hide the file). */
function trimSeparators(text: string): string {
  return text.replace(/^[._-]+/, '').replace(/[._-]+$/, '');
}

/** The longest prefix of whole code points within both limits. */
function fitBytes(text: string, maxChars: number, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  let chars = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (chars + 1 > maxChars || bytes + size > maxBytes) break;
    out += char;
    bytes += size;
    chars++;
  }
  return out;
}

/**
 * Creates an empty file `<stem>.ipynb` in `dir`, or `<stem>-2.ipynb`, `-3`… when taken, and
 * returns its path. The `wx` open makes the claim atomic, so two sessions racing for one name
 * get two files and nothing is ever overwritten. A stem longer than 200 bytes is shortened (at a
 * character boundary); a stem that could leave `dir` (a separator, NUL, `.`, `..`) is refused.
 */
export async function claimNotebookPath(dir: string, stem: string): Promise<string> {
  const fitted = fitBytes(stem, Number.POSITIVE_INFINITY, MAX_STEM_BYTES);
  if (!fitted || fitted === '.' || fitted === '..' || /[/\0]/.test(fitted)) {
    throw new JlabError('INVALID_ARGUMENT', `Refused notebook name ${JSON.stringify(stem)}: it is not a plain file name.`);
  }
  for (let n = 1; n < 10_000; n++) {
    const candidate = path.join(dir, `${fitted}${n === 1 ? '' : `-${n}`}.ipynb`);
    try {
      const handle = await open(candidate, 'wx', 0o666);
      await handle.close();
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new JlabError('NOTEBOOK_WRITE_FAILED', `Could not create ${candidate}: ${(error as Error).message}`, {
        hint: `Check that the notebook directory ${dir} exists and is writable.`,
      });
    }
  }
  throw new JlabError('NOTEBOOK_WRITE_FAILED', `No free notebook name for ${fitted} in ${dir} (-2 … -9999 are taken).`, {
    hint: 'Use another experiment_name, or move old notebooks away.',
  });
}
