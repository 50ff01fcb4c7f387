// Shared bits of the SLURM tier: skip when no cluster answers, run Slurm commands, poll squeue,
// the settings of a jlab-mcp on the test cluster, and the clean-up of what a test file leaves.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { runCommand, type RunResult } from '../../src/backends/slurm/commands.js';
import { SQUEUE_FORMAT, isTerminalState, parseSqueue } from '../../src/backends/slurm/parsers.js';
import type { SlurmBackendOptions } from '../../src/backends/slurm/slurmBackend.js';
import { missingBuildReason, type Spawned } from '../helpers/mcpClient.js';
import { waitUntil } from '../helpers/poll.js';

export type { RunResult } from '../../src/backends/slurm/commands.js';

/** A Slurm command through the server's own runner (tested in test/integration/exec.test.ts). */
export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<RunResult> {
  return runCommand(cmd, args, { timeoutMs, cwd: tmpdir() });
}

export async function clusterSkipReason(): Promise<string | false> {
  const hint = 'start one with scripts/slurm-cluster.sh up';
  const r = await run('sinfo', ['-h', '-o', '%T'], 12_000);
  if (r.failure) return `${r.failure}; ${hint}`;
  if (r.code !== 0) return `sinfo failed (exit ${r.code}: ${r.stderr.trim()}); ${hint}`;
  if (r.stdout.trim() === '') return `sinfo lists no nodes; ${hint}`;
  return false;
}

/** Why a test of the built binary on the cluster cannot run (no cluster, or no dist/cli.js), or false. */
export async function binarySkipReason(): Promise<string | false> {
  return (await clusterSkipReason()) || missingBuildReason();
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
  let state = '';
  return waitUntil(`job ${jobId} over`, async () => isOver((state = await jobState(jobId))) && state, {
    timeoutMs,
    intervalMs: 250,
    detail: () => `still ${state}`,
  });
}

/** Ids of unfinished jobs named `name` (squeue's default states); throws when squeue fails. */
export async function jobsNamed(name: string): Promise<string[]> {
  const r = await run('squeue', ['--noheader', `--name=${name}`, '--format=%i']);
  if (r.code !== 0) throw new Error(`squeue --name=${name} failed: ${r.failure ?? r.stderr}`);
  return r.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Polls `check` every 250 ms until it returns a value other than undefined; throws at the deadline. */
export function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  return waitUntil(what, check, { timeoutMs, intervalMs: 250 });
}

/** Cancels only the given job ids (never a user's whole queue). */
export async function cancelJobs(ids: Iterable<string>): Promise<void> {
  const list = [...new Set(ids)].filter((id) => /^\d+$/.test(id));
  if (list.length > 0) await run('scancel', list);
}

/** Jobs Slurm lists (finished ones too, for MinJobAge) whose working directory is `root` or below it; each is added to `record` for clean-up. */
export async function jobsUnder(root: string, record: Set<string>): Promise<string[]> {
  const r = await run('squeue', ['--noheader', '--states=all', '--format=%i %Z']);
  assert.equal(r.code, 0, `squeue: ${r.failure ?? r.stderr}`);
  const ids = r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, dir]) => dir !== undefined && (dir === root || dir.startsWith(`${root}/`)))
    .map(([id]) => id!);
  for (const id of ids) record.add(id);
  return ids;
}

/** The environment of a jlab-mcp on the test cluster: one CPU of `debug` for 10 min, a minute each to queue and to start; `env` adds or overrides. */
export function slurmEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    JLAB_MCP_RUN_MODE: 'slurm',
    JLAB_MCP_SLURM_PARTITION: 'debug',
    JLAB_MCP_SLURM_CPUS: '1',
    JLAB_MCP_SLURM_TIME: '10',
    JLAB_MCP_QUEUE_TIMEOUT: '60',
    JLAB_MCP_READY_TIMEOUT: '60',
    ...env,
  };
}

/** A SlurmBackend on the test cluster: one CPU of `debug` for 5 min, 30 s to queue, a minute to start. */
export function backendOptions(rootDir: string, stateDir: string): SlurmBackendOptions {
  return {
    batch: { partition: 'debug', cpus: 1, time: '5', jupyterCommand: ['jupyter-server'] },
    rootDir,
    stateDir,
    queueTimeoutMs: 30_000,
    readyTimeoutMs: 60_000,
    heartbeatTimeoutS: 60,
    keepOnQueueTimeout: false,
  };
}

/**
 * What one test file leaves behind, cleaned up by one `after` hook: the jlab-mcp processes it
 * handed over (killed), then the jobs in `submitted` (cancelled), then its temporary directories.
 */
export class SlurmTestScratch {
  /** Job ids to cancel at the end: only these, never a user's whole queue. */
  readonly submitted = new Set<string>();
  private readonly dirs: string[] = [];
  private readonly servers: Spawned[] = [];

  constructor() {
    after(async () => {
      for (const server of this.servers) {
        const pid = server.pid();
        if (pid) process.kill(pid, 'SIGKILL');
        await server.close().catch(() => {});
      }
      await cancelJobs(this.submitted);
      for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
    });
  }

  /** A fresh directory under the system temp dir, named `prefix`…, removed at the end. */
  async tempDir(prefix: string): Promise<string> {
    return this.removeAtEnd(await mkdtemp(path.join(tmpdir(), prefix)));
  }

  removeAtEnd(dir: string): string {
    this.dirs.push(dir);
    return dir;
  }

  /** A jlab-mcp SIGKILLed at the end if it still runs then (a test that failed half-way). */
  killAtEnd(server: Spawned): Spawned {
    this.servers.push(server);
    return server;
  }
}
