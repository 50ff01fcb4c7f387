// Round trip against a real Slurm cluster: sbatch -> RUNNING -> scancel -> gone.
// Needs a running cluster (scripts/slurm-cluster.sh up); skipped otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';

import { SQUEUE_FORMAT, isTerminalState, parseSbatchOutput, parseSqueue, type SqueueRow } from '../../src/backends/slurm/parsers.js';
import { runCommand } from '../../src/backends/slurm/commands.js';
import { waitUntil } from '../helpers/poll.js';

/** A Slurm command through the server's own runner (tested in test/integration/exec.test.ts). */
const run = (cmd: string, args: string[], timeoutMs = 15_000) => runCommand(cmd, args, { timeoutMs, cwd: tmpdir() });

async function clusterSkipReason(): Promise<string | false> {
  const hint = 'start one with scripts/slurm-cluster.sh up';
  const r = await run('sinfo', ['-h', '-o', '%T'], 12_000);
  const err = r.stderr.trim().split('\n')[0] ?? '';
  if (r.failure) return `${r.failure}${err ? ` (${err})` : ''}; ${hint}`;
  if (r.code !== 0) return `sinfo failed (exit ${r.code}: ${err}); ${hint}`;
  if (r.stdout.trim() === '') return `sinfo lists no nodes; ${hint}`;
  return false;
}

const skip = await clusterSkipReason();
if (skip) console.error(`skipping SLURM cluster tests: ${skip}`);

/** squeue rows for one job; [] when Slurm no longer knows the id. */
async function squeueJob(jobId: string): Promise<SqueueRow[]> {
  const r = await run('squeue', ['--noheader', `--jobs=${jobId}`, '--states=all', `--format=${SQUEUE_FORMAT}`]);
  if (r.code !== 0) {
    // A purged / unknown id: exit 1, "slurm_load_jobs error: Invalid job id specified"
    if (/Invalid job id/i.test(r.stderr)) return [];
    throw new Error(`squeue failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return parseSqueue(r.stdout).filter((row) => row.jobId === jobId);
}

async function pollUntil(jobId: string, deadlineMs: number, done: (rows: SqueueRow[]) => boolean): Promise<SqueueRow[]> {
  let rows: SqueueRow[] = [];
  return waitUntil(`job ${jobId}: condition`, async () => done((rows = await squeueJob(jobId))) && rows, {
    timeoutMs: deadlineMs,
    intervalMs: 250,
    detail: () => `last rows ${JSON.stringify(rows)}`,
  });
}

test('sbatch -> RUNNING -> scancel -> terminal', { skip, timeout: 90_000 }, async () => {
  const submitted: string[] = [];
  try {
    const t0 = Date.now();
    const sub = await run('sbatch', ['--parsable', '--time=1', '--job-name=jlab-mcp-cluster-test', '--output=/dev/null', '--wrap', 'sleep 30']);
    assert.equal(sub.code, 0, `sbatch failed: ${sub.stderr}`);
    const { jobId } = parseSbatchOutput(sub.stdout);
    submitted.push(jobId);
    assert.match(jobId, /^\d+$/);

    const running = await pollUntil(jobId, 20_000, (rows) => {
      const st = rows[0]?.state ?? '';
      if (isTerminalState(st)) throw new Error(`job ${jobId} ended before running: ${st}`);
      return st === 'RUNNING';
    });
    const row = running[0];
    assert.ok(row);
    assert.equal(row.state, 'RUNNING');
    assert.notEqual(row.nodes, '', 'a running job has a node');
    assert.equal(row.timeLimit, '1:00');
    console.error(`job ${jobId} RUNNING on ${row.nodes} after ${Date.now() - t0} ms`);

    const c = await run('scancel', [jobId]);
    assert.equal(c.code, 0, `scancel failed: ${c.stderr}`);
    const t1 = Date.now();
    const after = await pollUntil(jobId, 20_000, (rows) => rows.length === 0 || isTerminalState(rows[0]?.state ?? ''));
    if (after[0]) assert.equal(after[0].state, 'CANCELLED');
    console.error(`job ${jobId} ${after[0]?.state ?? 'gone'} ${Date.now() - t1} ms after scancel`);
  } finally {
    if (submitted.length > 0) await run('scancel', submitted);
  }
});

test('squeue for an unknown job id reports nothing', { skip }, async () => {
  assert.deepEqual(await squeueJob('999999999'), []);
});
