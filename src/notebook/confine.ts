import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { JlabError } from '../util/errors.js';

/**
 * Resolves a notebook path the agent gave to a real file inside `notebookDir`.
 * Relative paths are taken relative to `notebookDir`. The check runs on real paths (symlinks
 * resolved) and compares whole path segments, so `../x`, `/etc/x`, a sibling `notebooks2/`
 * and a symlink pointing outside are all refused.
 */
export async function resolveNotebookPath(notebookDir: string, given: string): Promise<string> {
  if (!given || given.includes('\0')) {
    throw new JlabError('INVALID_ARGUMENT', 'notebook_path is empty or contains a NUL byte.');
  }
  const rootReal = await realpath(notebookDir);
  const candidate = path.resolve(notebookDir, given);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Not found: still refuse paths outside before saying "not found", so probing learns nothing.
    assertInside(rootReal, path.resolve(rootReal, path.relative(notebookDir, candidate)), given, notebookDir);
    throw new JlabError('NOTEBOOK_NOT_FOUND', `Notebook not found: ${given}`, {
      hint: `Use a path returned by start_new_session or list_sessions, inside ${notebookDir}.`,
    });
  }
  assertInside(rootReal, real, given, notebookDir);
  const info = await stat(real);
  if (!info.isFile()) throw new JlabError('NOTEBOOK_NOT_FOUND', `Not a notebook file: ${given}`);
  return real;
}

function assertInside(rootReal: string, real: string, given: string, notebookDir: string): void {
  const relative = path.relative(rootReal, real);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new JlabError('PATH_OUTSIDE_NOTEBOOK_DIR', `Refused: ${given} is outside the notebook directory ${notebookDir}.`, {
      hint: `Pass a notebook inside ${notebookDir} (relative paths are resolved against it).`,
    });
  }
}
