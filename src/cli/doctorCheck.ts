import { execFile } from 'node:child_process';

/** One line of `jlab-mcp doctor`: ok, a problem (with its fix), or a note (nothing wrong; worth knowing). */
export interface Check {
  name: string;
  status: 'ok' | 'problem' | 'note';
  detail: string;
  fix?: string;
}

export const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail });
export const note = (name: string, detail: string, fix?: string): Check => ({ name, status: 'note', detail, fix });
export const problem = (name: string, detail: string, fix: string): Check => ({ name, status: 'problem', detail, fix });

export interface Ran {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Why it failed, in a few words: exit code, signal, not found, timed out. */
  why?: string;
}

/** Runs a program (no shell) with a deadline (SIGKILL: one that ignores SIGTERM must not outlast it); never throws. */
export function run(program: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout, stderr });
      const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: number | string };
      const why = e.code === 'ENOENT' ? 'not found' : e.killed ? `no answer within ${timeoutMs / 1000} s` : e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
      resolve({ ok: false, stdout, stderr, why });
    });
  });
}

/** The last non-empty line of a command's output, for a one-line detail. */
export function lastLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).pop() ?? '';
}
