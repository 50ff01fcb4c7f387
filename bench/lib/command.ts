import { spawn, type ChildProcess } from 'node:child_process';
import type { Cleanups } from './cleanup.js';
import { killAndWait, pidAlive } from './processes.js';
import { sleep } from './timeout.js';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to the process's exit (not to its pipes closing). */
  wallMs: number;
}

/**
 * Runs a command to completion with a deadline. On timeout (or bench cleanup) it gets SIGINT
 * first — Python then runs its `finally` blocks, which shut kernels down — then SIGTERM, then
 * SIGKILL. Rejects on timeout or a non-zero exit, with the stderr tail.
 */
export async function runCommand(
  cleanups: Cleanups,
  argv: string[],
  options: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void },
): Promise<CommandResult> {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
  // Listen now: 'close' can fire in the same tick as 'exit'.
  const closed = new Promise((resolve) => child.once('close', resolve));
  options.onSpawn?.(child);
  const stop = async () => {
    const pid = child.pid;
    if (pid === undefined || !pidAlive(pid)) return;
    child.kill('SIGINT');
    for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(50);
    if (pidAlive(pid)) child.kill('SIGTERM');
    await killAndWait(pid, 3000);
  };
  const release = cleanups.add(`${argv[0]} (pid ${child.pid})`, stop);
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${argv.join(' ')} timed out after ${options.timeoutMs / 1000} s\n${stderr.slice(-2000)}`)),
        options.timeoutMs,
      );
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, at: performance.now() });
      });
    });
    // Let the pipes drain (a grandchild may hold them briefly).
    await Promise.race([closed, sleep(2000)]);
    const result: CommandResult = { code: exit.code, signal: exit.signal, stdout, stderr, wallMs: exit.at - t0 };
    if (exit.code !== 0) throw new Error(`${argv.join(' ')} exited ${exit.signal ?? exit.code}\n${stderr.slice(-2000)}`);
    return result;
  } finally {
    await release();
  }
}
