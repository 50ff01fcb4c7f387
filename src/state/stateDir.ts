import { createHash } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Where jlab-mcp keeps what must outlive it (the session registry, its lock) when the setting
 * does not say: one directory per notebook directory under `$XDG_STATE_HOME/jlab-mcp` (else
 * `~/.local/state/jlab-mcp`), so the same project finds its sessions again after a restart and
 * two projects never share one. Made 0700: it names kernels and the files holding their tokens.
 */
export function defaultStateDir(notebookDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  const name =
    path
      .basename(notebookDir)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(0, 40) || 'notebooks';
  return path.join(base, 'jlab-mcp', `${name}-${createHash('sha256').update(notebookDir).digest('hex').slice(0, 12)}`);
}

export async function ensureStateDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}
