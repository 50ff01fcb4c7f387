// The SLURM sweep executor against scripted Slurm commands (small shell programs first on PATH):
// the fast cases a real cluster cannot stage — a lost sbatch answer, a refusal, a controller that
// does not answer. test/slurm/sweep-array.test.ts runs the same executor on a real cluster.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { SlurmSweepExecutor } from '../../src/sweeps/slurm/index.js';
import type { SubmittedAttempt, SweepLaunch } from '../../src/sweeps/types.js';
import { JlabError } from '../../src/util/errors.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'sweep-exec-'));
const bin = path.join(root, 'bin');
const savedPath = process.env.PATH;
after(async () => {
  process.env.PATH = savedPath;
  await rm(root, { recursive: true, force: true });
});

/** Each fake logs its argv to bin/calls and answers from files in bin/ the test writes. */
const FAKES: Record<string, string> = {
  sbatch: [
    'echo "sbatch $*" >> "$D/calls"',
    'case "$(cat "$D/sbatch.mode" 2>/dev/null)" in',
    '  refuse) echo "sbatch: error: invalid partition specified: nope" >&2; exit 1 ;;',
    '  garbage) echo "sbatch: the controller said something new"; exit 0 ;;',
    '  *) echo 4242 ;;',
    'esac',
  ].join('\n'),
  squeue: [
    'echo "squeue $*" >> "$D/calls"',
    'case "$*" in *--name=*) cat "$D/squeue.byname" 2>/dev/null; exit 0 ;; esac',
    '[ -f "$D/squeue.fail" ] && { echo "slurm_load_jobs error: Socket timed out on send/recv operation" >&2; exit 1; }',
    'cat "$D/squeue.out" 2>/dev/null; exit 0',
  ].join('\n'),
  sacct: ['echo "sacct $*" >> "$D/calls"', 'echo "Slurm accounting storage is disabled" >&2', 'exit 1'].join('\n'),
  scontrol: ['echo "scontrol $*" >> "$D/calls"', 'echo "MaxArraySize            = $(cat "$D/maxarray" 2>/dev/null || echo 1001)"'].join('\n'),
  scancel: ['echo "scancel $*" >> "$D/calls"', 'exit 0'].join('\n'),
};

async function fakeSlurm(): Promise<void> {
  await rm(bin, { recursive: true, force: true });
  await mkdir(bin, { recursive: true });
  for (const [name, body] of Object.entries(FAKES)) await writeFile(path.join(bin, name), `#!/bin/sh\nD=$(dirname "$0")\n${body}\n`, { mode: 0o755 });
  process.env.PATH = `${bin}:${savedPath}`;
}
const calls = async () => (await readFile(path.join(bin, 'calls'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
const answer = (file: string, text: string) => writeFile(path.join(bin, file), text);

const executor = () =>
  new SlurmSweepExecutor({
    settingsFor: () => ({ partition: 'debug', jupyterCommand: ['jupyter-server'] }),
    recordHelperPython: 'def record(name, value): pass\n',
  });

async function launch(n = 3): Promise<SweepLaunch> {
  const dir = await mkdtemp(path.join(root, 'exp-'));
  const runs = await Promise.all(
    Array.from({ length: n }, async (_, index) => {
      const notebookPath = path.join(dir, `run-${String(index).padStart(4, '0')}.ipynb`);
      await writeFile(notebookPath, '{}');
      return { index, parameters: { x: index }, notebookPath };
    }),
  );
  return { sweepId: 'sw1', experimentDir: dir, runs, maxConcurrent: 2, attempt: 1 };
}

describe('SlurmSweepExecutor (scripted Slurm)', () => {
  beforeEach(fakeSlurm);

  it("submit writes the attempt's files, drops an earlier attempt's status, and returns the job", async () => {
    const l = await launch();
    await writeFile(path.join(l.experimentDir, '.run-0001.status.json'), '{"state":"failed","attempt":0}');
    const plan = await executor().plan(l);
    assert.equal(existsSync(path.join(l.experimentDir, '.slurm')), false, 'a plan writes nothing');
    const attempt = await executor().submit(l);
    assert.equal(attempt.command, plan.command, 'the plan shows the exact line submit runs');
    assert.equal(attempt.jobId, '4242');
    assert.deepEqual(attempt.runIndices, [0, 1, 2]);
    assert.match(attempt.command ?? '', /^sbatch --parsable --array=0-2%2 /);
    assert.deepEqual((await readdir(path.join(l.experimentDir, '.slurm'))).sort(), [
      'attempt-1.sh',
      'attempt-1.tasks.json',
      'record_helper.py',
      'run_notebook.py',
    ]);
    const tasks = JSON.parse(await readFile(path.join(l.experimentDir, '.slurm', 'attempt-1.tasks.json'), 'utf8')) as { index: number; notebook: string }[];
    assert.deepEqual(
      tasks.map((t) => t.notebook),
      l.runs.map((r) => r.notebookPath),
    );
    assert.equal(existsSync(path.join(l.experimentDir, '.run-0001.status.json')), false);
  });

  it('an array past MaxArraySize: refused with the largest allowed, nothing written or submitted', async () => {
    await answer('maxarray', '2');
    const l = await launch(3);
    await assert.rejects(executor().submit(l), (e: unknown) => e instanceof JlabError && e.code === 'INVALID_ARGUMENT' && /at most 2 tasks/.test(e.message));
    assert.equal(existsSync(path.join(l.experimentDir, '.slurm')), false);
    assert.deepEqual(
      (await calls()).filter((c) => c.startsWith('sbatch')),
      [],
    );
  });

  it("a refusal is SWEEP_SUBMIT_FAILED in Slurm's words", async () => {
    await answer('sbatch.mode', 'refuse');
    await assert.rejects(
      executor().submit(await launch()),
      (e: unknown) => e instanceof JlabError && e.code === 'SWEEP_SUBMIT_FAILED' && /invalid partition specified: nope/.test(e.message),
    );
  });

  it('an answer without an id: the job is found by its unique name', async () => {
    await answer('sbatch.mode', 'garbage');
    await answer('squeue.byname', '5151\n');
    const attempt = await executor().submit(await launch());
    assert.equal(attempt.jobId, '5151');
    assert.ok((await calls()).some((c) => c.includes('--name=jlab-mcp-sweep-sw1-a1')));
  });

  it('poll: a controller that does not answer changes no state; the runner status still shows', async () => {
    const l = await launch(2);
    const attempt: SubmittedAttempt = { attempt: 1, jobId: '4242', runIndices: [0, 1], submittedAt: new Date(Date.now() - 3_600_000).toISOString() };
    await writeFile(path.join(l.experimentDir, '.run-0000.status.json'), JSON.stringify({ state: 'running', attempt: 1, jobId: '4242', cellReached: 1 }));
    await answer('squeue.fail', '');
    const reports = await executor().poll(l, attempt);
    assert.deepEqual(
      reports.map((r) => [r.state, r.cellReached]),
      [
        ['running', 1],
        ['pending', undefined],
      ],
    );
  });

  it('poll: an hour after submit, a task Slurm no longer lists is failed or cancelled, never left running', async () => {
    const l = await launch(3);
    const attempt: SubmittedAttempt = { attempt: 1, jobId: '4242', runIndices: [0, 1, 2], submittedAt: new Date(Date.now() - 3_600_000).toISOString() };
    await answer('squeue.out', '4242_0|COMPLETED|2026-12-06T22:27:33|2026-12-06T22:27:38|vm|None\n');
    await writeFile(path.join(l.experimentDir, '.run-0000.status.json'), JSON.stringify({ state: 'completed', attempt: 1, jobId: '4242' }));
    await writeFile(path.join(l.experimentDir, '.run-0001.status.json'), JSON.stringify({ state: 'running', attempt: 1, jobId: '4242', cellReached: 4 }));
    const exec = executor();
    await exec.cancel(l, attempt, [2]);
    const reports = await exec.poll(l, attempt);
    assert.deepEqual(
      reports.map((r) => r.state),
      ['completed', 'failed', 'cancelled'],
    );
    assert.match(reports[1]!.error ?? '', /in cell 4 without a final status/);
    assert.ok((await calls()).includes('scancel 4242_2'));
  });

  it('cancel: runs outside the attempt are refused; no indices cancels the whole array', async () => {
    const l = await launch(2);
    const attempt: SubmittedAttempt = { attempt: 1, jobId: '4242', runIndices: [0, 1], submittedAt: new Date().toISOString() };
    await assert.rejects(executor().cancel(l, attempt, [7]), (e: unknown) => e instanceof JlabError && e.code === 'INVALID_ARGUMENT');
    await executor().cancel(l, attempt);
    assert.ok((await calls()).includes('scancel 4242'));
    const reports = await executor().poll(l, attempt);
    assert.deepEqual(
      reports.map((r) => r.state),
      ['cancelled', 'cancelled'],
    );
  });
});
