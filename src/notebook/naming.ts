import { open } from 'node:fs/promises';
import path from 'node:path';

/**
 * A safe file stem from what the agent calls its experiment: letters, digits, `.`, `_`, `-`;
 * everything else becomes `_`; no leading dots (hidden files) and at most 80 characters.
 */
export function sanitizeStem(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+/, '')
    .replace(/[._-]+$/, '')
    .slice(0, 80);
  return cleaned || 'notebook';
}

/**
 * Creates an empty file `<stem>.ipynb` in `dir`, or `<stem>-2.ipynb`, `-3`… when taken, and
 * returns its path. The `wx` open makes the claim atomic, so two sessions racing for one name
 * get two files and nothing is ever overwritten.
 */
export async function claimNotebookPath(dir: string, stem: string): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const candidate = path.join(dir, `${stem}${n === 1 ? '' : `-${n}`}.ipynb`);
    try {
      const handle = await open(candidate, 'wx', 0o666);
      await handle.close();
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`No free notebook name for ${stem} in ${dir}`);
}
