import { exec, ExecError } from '../util/exec.js';

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

/** Runs a program (no shell) with a deadline; never throws. */
export async function run(program: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  try {
    return { ok: true, ...(await exec([program, ...args], { timeoutMs, env })) };
  } catch (error) {
    if (!(error instanceof ExecError)) throw error;
    const why = error.kind === 'not-found' ? 'not found' : error.timedOut ? `no answer within ${timeoutMs / 1000} s` : error.why;
    return { ok: false, stdout: error.stdout, stderr: error.stderr, why };
  }
}

/** The last non-empty line of a command's output, for a one-line detail. */
export function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .pop() ?? ''
  );
}
