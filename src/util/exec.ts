import { spawn } from 'node:child_process';
import { ExecError, type ExecFailure } from './execError.js';
import { envWithoutSecrets } from './secrets.js';
import { TextTail } from './tail.js';
import { terminate } from './terminate.js';

export { ExecError } from './execError.js';

/*
 * Why not execa (9.x would fit Node 20): its maxBuffer ends a command whose output is too long,
 * where a pip install must keep running and keep only its last lines; it signals the child, not
 * its process group; and an apt step must be left running when jlab-mcp exits. Those three are
 * this file; the rest is a spawn with a timer.
 */

export interface ExecOptions {
  /** Deadline in ms: then SIGTERM, and SIGKILL `graceMs` later. */
  timeoutMs: number;
  /** Aborting ends the child the same way (e.g. jlab-mcp shutting down). */
  signal?: AbortSignal;
  /** ms between SIGTERM and SIGKILL; default 2000. */
  graceMs?: number;
  /** Passed through `envWithoutSecrets`: no child of ours sees our tokens. Default process.env. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Characters kept of stdout and of stderr each: the newest; default 4 MiB. Longer output is not an error. */
  maxOutput?: number;
  /** Own process group, and the whole group is signalled: for programs that start their own children. */
  processGroup?: boolean;
  /** On `signal`, leave the child running on its own (apt: a dpkg cut short needs a person) and reject at once. */
  leaveRunningOnAbort?: boolean;
  /** Every piece of output as it arrives (stdout and stderr alike), for progress lines. */
  onOutput?: (text: string) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** After the child exits, how long its pipes may stay open (held by a grandchild) before we stop reading, in ms. */
const PIPE_LINGER_MS = 500;

/**
 * Runs `argv` (no shell) to its end. Resolves with its output when it exits 0; rejects with an
 * `ExecError` (exit code, signal, timed out, aborted, not found, redacted stderr tail) otherwise.
 */
export function exec(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (!program) return Promise.reject(new ExecError({ argv, kind: 'spawn-failed', detail: 'empty command', stdout: '', stderr: '' }));
  const stdout = new TextTail(options.maxOutput ?? 4 * 1024 * 1024);
  const stderr = new TextTail(options.maxOutput ?? 4 * 1024 * 1024);
  const group = options.processGroup === true;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: envWithoutSecrets(options.env ?? process.env),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group || options.leaveRunningOnAbort === true,
    });
    for (const [stream, tail] of [
      [child.stdout!, stdout],
      [child.stderr!, stderr],
    ] as const) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        tail.push(text);
        options.onOutput?.(text);
      });
    }
    let ending: 'timed-out' | 'aborted' | undefined;
    const end = (why: 'timed-out' | 'aborted') => {
      ending ??= why;
      if (why === 'aborted' && options.leaveRunningOnAbort) {
        child.stdout!.destroy();
        child.stderr!.destroy();
        child.unref();
        return settle({ kind: 'left-running', pid: child.pid });
      }
      void terminate(child, options.graceMs ?? 2000, { group });
    };
    const timer = setTimeout(() => end('timed-out'), options.timeoutMs);
    const onAbort = () => end('aborted');
    let lingering: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (failure?: Omit<ExecFailure, 'argv' | 'stdout' | 'stderr'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(lingering);
      options.signal?.removeEventListener('abort', onAbort);
      const output = { stdout: stdout.text(), stderr: stderr.text() };
      if (failure) reject(new ExecError({ argv, ...output, ...failure, timeoutMs: options.timeoutMs, abortReason: options.signal?.reason }));
      else resolve(output);
    };
    child.once('error', (error: NodeJS.ErrnoException) => settle({ kind: error.code === 'ENOENT' ? 'not-found' : 'spawn-failed', detail: error.message }));
    child.once('exit', () => {
      // A grandchild that inherited the pipes could keep 'close' away for as long as it lives.
      lingering = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
      }, PIPE_LINGER_MS);
    });
    child.once('close', (code, signal) => {
      if (ending) settle({ kind: ending, exitCode: code ?? undefined, signal: signal ?? undefined });
      else if (code === 0) settle();
      else settle(signal ? { kind: 'signal', signal } : { kind: 'exit-code', exitCode: code ?? undefined });
    });
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
