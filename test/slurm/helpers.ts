// Shared bits of the SLURM tier: skip when no cluster answers, run Slurm commands, poll squeue.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { SQUEUE_FORMAT, isTerminalState, parseSqueue } from '../../src/backends/slurm/parsers.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  failure?: string;
}

export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: tmpdir(), timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: unknown };
      if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
      resolve({ code: -1, stdout, stderr, failure: `${cmd}: ${String(e.code ?? '')} ${e.message}` });
    });
  });
}

export async function clusterSkipReason(): Promise<string | false> {
  const hint = 'start one with scripts/slurm-cluster.sh up';
  const r = await run('sinfo', ['-h', '-o', '%T'], 12_000);
  if (r.failure) return `${r.failure}; ${hint}`;
  if (r.code !== 0) return `sinfo failed (exit ${r.code}: ${r.stderr.trim()}); ${hint}`;
  if (r.stdout.trim() === '') return `sinfo lists no nodes; ${hint}`;
  return false;
}

/** The job's state from squeue, or 'GONE' when Slurm no longer knows it. */
export async function jobState(jobId: string): Promise<string> {
  const r = await run('squeue', ['--noheader', `--jobs=${jobId}`, '--states=all', `--format=${SQUEUE_FORMAT}`]);
  const row = parseSqueue(r.stdout).find((x) => x.jobId === jobId);
  return row?.state ?? 'GONE';
}

export function isOver(state: string): boolean {
  return state === 'GONE' || isTerminalState(state) || state.startsWith('COMPLETING');
}

/** Polls until the job is over; returns its last state, or throws at the deadline. */
export async function waitJobOver(jobId: string, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const state = await jobState(jobId);
    if (isOver(state)) return state;
    if (Date.now() > end) throw new Error(`job ${jobId} still ${state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Ids of unfinished jobs named `name` (squeue's default states); throws when squeue fails. */
export async function jobsNamed(name: string): Promise<string[]> {
  const r = await run('squeue', ['--noheader', `--name=${name}`, '--format=%i']);
  if (r.code !== 0) throw new Error(`squeue --name=${name} failed: ${r.failure ?? r.stderr}`);
  return r.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** Polls `check` every 250 ms until it returns a value other than undefined; throws at the deadline. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Cancels only the given job ids (never a user's whole queue). */
export async function cancelJobs(ids: Iterable<string>): Promise<void> {
  const list = [...new Set(ids)].filter((id) => /^\d+$/.test(id));
  if (list.length > 0) await run('scancel', list);
}
