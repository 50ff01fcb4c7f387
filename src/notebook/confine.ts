import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { JlabError } from '../util/errors.js';

/**
 * Resolves a notebook path the agent gave to a real file inside `notebookDir`.
 * Relative paths are taken relative to `notebookDir`. The check runs on real paths (symlinks
 * resolved) and compares whole path segments, so `../x`, `/etc/x`, a sibling `notebooks2/`
 * and a symlink pointing outside are all refused. Every refusal is a JlabError that names the
 * path and the problem: outside, missing, a directory, a symlink loop, unreadable.
 */
export async function resolveNotebookPath(notebookDir: string, given: string): Promise<string> {
  if (!given || given.includes('\0')) {
    throw new JlabError('INVALID_ARGUMENT', 'notebook_path is empty or contains a NUL byte.', {
      hint: `Pass the path of a .ipynb file inside ${notebookDir}.`,
    });
  }
  const rootReal = await realDir(notebookDir);
  const candidate = path.resolve(notebookDir, given);
  // Refuse paths outside before looking at the file, so probing learns nothing about it.
  assertInside(rootReal, path.resolve(rootReal, path.relative(notebookDir, candidate)), given, notebookDir);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    throw notFound(error, given, notebookDir);
  }
  assertInside(rootReal, real, given, notebookDir);
  const info = await stat(real).catch((error: unknown) => {
    throw notFound(error, given, notebookDir);
  });
  if (info.isDirectory()) {
    throw new JlabError('NOTEBOOK_NOT_FOUND', `Not a notebook file: ${given} is a directory.`, {
      hint: `Pass a .ipynb file, e.g. one inside ${given}.`,
    });
  }
  if (!info.isFile()) throw new JlabError('NOTEBOOK_NOT_FOUND', `Not a notebook file: ${given} is not a regular file.`);
  return real;
}

/** The notebook directory's real path; a missing one means there are no notebooks yet. */
async function realDir(notebookDir: string): Promise<string> {
  try {
    return await realpath(notebookDir);
  } catch (error) {
    throw new JlabError('NOTEBOOK_NOT_FOUND', `The notebook directory ${notebookDir} cannot be read: ${(error as Error).message}`, {
      hint: 'Start a session with start_new_session first (it creates the directory), or check JLAB_MCP_NOTEBOOK_DIR.',
    });
  }
}

/** The refusal for a path that resolved inside but cannot be opened, in words the agent can act on. */
function notFound(error: unknown, given: string, notebookDir: string): JlabError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'no such file'
      : code === 'ELOOP'
        ? 'a symlink loop'
        : code === 'ENAMETOOLONG'
          ? 'the path is too long'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (error as Error).message;
  return new JlabError('NOTEBOOK_NOT_FOUND', `Notebook not found: ${given} (${why}).`, {
    hint: `Use a path returned by start_new_session or list_sessions, inside ${notebookDir}.`,
  });
}

function assertInside(rootReal: string, real: string, given: string, notebookDir: string): void {
  const relative = path.relative(rootReal, real);
  // Whole segments: `..x.ipynb` is a fine name inside; `../x.ipynb` and the directory itself are not.
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new JlabError('PATH_OUTSIDE_NOTEBOOK_DIR', `Refused: ${given} is outside the notebook directory ${notebookDir}.`, {
      hint: `Pass a notebook inside ${notebookDir} (relative paths are resolved against it).`,
    });
  }
}

/**
 * Resolves a directory the agent gave (list_notebooks) to a real directory inside `notebookDir`,
 * or the notebook directory itself when `given` is empty; the same confinement as notebook paths.
 */
export async function resolveNotebookSubdir(notebookDir: string, given: string | undefined): Promise<string> {
  const rootReal = await realDir(notebookDir);
  if (given === undefined || given === '' || given === '.') return rootReal;
  if (given.includes('\0')) throw new JlabError('INVALID_ARGUMENT', 'path contains a NUL byte.', { hint: `Pass a directory inside ${notebookDir}.` });
  const candidate = path.resolve(notebookDir, given);
  const lexical = path.resolve(rootReal, path.relative(notebookDir, candidate));
  if (lexical !== rootReal) assertInside(rootReal, lexical, given, notebookDir);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    throw notFound(error, given, notebookDir);
  }
  if (real !== rootReal) assertInside(rootReal, real, given, notebookDir);
  if (!(await stat(real)).isDirectory()) {
    throw new JlabError('INVALID_ARGUMENT', `${given} is a file, not a directory.`, {
      hint: 'Pass a directory to list (or nothing, for the whole notebook directory).',
    });
  }
  return real;
}
