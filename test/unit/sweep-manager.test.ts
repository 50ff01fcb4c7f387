// The sweep manager against a scripted fake executor: planning, files, attempts, the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SessionRegistry } from '../../src/state/registry.js';
import { SCRAP_MIME } from '../../src/sweeps/recordHelper.js';
import { SweepManager, type SweepManagerOptions } from '../../src/sweeps/sweepManager.js';
import type { RunReport, SubmittedAttempt, SweepExecutor, SweepLaunch } from '../../src/sweeps/types.js';
import { JlabError } from '../../src/util/errors.js';

/** Reports what the test sets in `states`; records every submit and cancel. */
class FakeExecutor implements SweepExecutor {
  readonly kind = 'local' as const;
  readonly launches: SweepLaunch[] = [];
  readonly cancels: Array<number[] | undefined> = [];
  readonly states = new Map<number, RunReport>();
  refuse?: JlabError;
  async plan() {
    return { command: 'fake --array' };
  }
  async submit(launch: SweepLaunch): Promise<SubmittedAttempt> {
    if (this.refuse) throw this.refuse;
    this.launches.push(launch);
    for (const run of launch.runs) this.states.set(run.index, { index: run.index, state: 'pending' });
    return { attempt: launch.attempt, runIndices: launch.runs.map((run) => run.index), submittedAt: new Date().toISOString(), command: 'fake --array' };
  }
  async poll(_launch: SweepLaunch, attempt: SubmittedAttempt): Promise<RunReport[]> {
    return attempt.runIndices.map((index) => this.states.get(index) ?? { index, state: 'pending' });
  }
  async cancel(_launch: SweepLaunch, attempt: SubmittedAttempt, indices?: number[]): Promise<void> {
    this.cancels.push(indices);
    for (const index of indices ?? attempt.runIndices) this.states.set(index, { index, state: 'cancelled' });
  }
}

const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    { cell_type: 'code', id: 'p', metadata: { tags: ['parameters'] }, source: 'lr = 1', outputs: [], execution_count: null },
    { cell_type: 'code', id: 'q', metadata: {}, source: 'record("loss", lr)', outputs: [], execution_count: null },
  ],
};

async function setup(options: Partial<SweepManagerOptions> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sweep-manager-'));
  await writeFile(path.join(dir, 'train.ipynb'), JSON.stringify(NOTEBOOK));
  const executor = new FakeExecutor();
  const manager = new SweepManager({
    notebookDir: dir,
    maxRuns: 100,
    kind: 'local',
    defaultMaxConcurrent: 3,
    executorFor: () => executor,
    pollIntervalMs: 10,
    ...options,
  });
  return { dir, executor, manager };
}

const closeOf = (manager: SweepManager) => manager.shutdown(async () => {});

test('start: one notebook per run with its injected cell, sweep.json, a pending table; the launch names them', async () => {
  const { dir, executor, manager } = await setup();
  const { record } = await manager.start({ notebookPath: 'train.ipynb', experimentName: 'lr grid', parameters: { lr: [0.1, 0.2] } });
  const experimentDir = path.join(dir, 'lr_grid');
  assert.equal(record.experimentDir, experimentDir);
  assert.equal(executor.launches[0]?.maxConcurrent, 3, 'the default max_concurrent');
  assert.deepEqual(
    executor.launches[0]?.runs.map((run) => [run.index, run.parameters, path.basename(run.notebookPath)]),
    [
      [0, { lr: 0.1 }, 'run-0000.ipynb'],
      [1, { lr: 0.2 }, 'run-0001.ipynb'],
    ],
  );
  const run1 = JSON.parse(await readFile(path.join(experimentDir, 'run-0001.ipynb'), 'utf8')) as { cells: Array<{ source: string[] }> };
  assert.deepEqual(run1.cells[1]?.source, ['# Parameters\n', 'lr = 0.2\n']);
  assert.equal(JSON.parse(await readFile(path.join(experimentDir, 'sweep.json'), 'utf8')).sweep_id, record.id);
  assert.match(await readFile(path.join(experimentDir, 'results.csv'), 'utf8'), /0,0\.1,pending/);
  await closeOf(manager);
});

test('status: the executor decides the state; recorded values come from the run notebook; the table is rewritten', async () => {
  const { executor, manager } = await setup();
  const { record } = await manager.start({ notebookPath: 'train.ipynb', experimentName: 'g', runs: [{ lr: 1 }, { lr: 2 }] });
  const run0 = record.runs[0]!.notebookPath;
  const nb = JSON.parse(await readFile(run0, 'utf8')) as { cells: Array<{ outputs?: unknown[] }> };
  nb.cells[2]!.outputs = [{ output_type: 'display_data', metadata: {}, data: { [SCRAP_MIME]: { name: 'loss', data: 0.5, encoder: 'json', version: 1 } } }];
  await writeFile(run0, JSON.stringify(nb));
  executor.states.set(0, { index: 0, state: 'completed', startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:03Z', node: 'n7' });
  executor.states.set(1, { index: 1, state: 'failed', error: 'ValueError: no', cellReached: 2 });
  const { rows } = await manager.status(record.id);
  assert.deepEqual(
    rows.map((row) => [row.status, row.duration_s, row.node, row.error, row.values]),
    [
      ['completed', 3, 'n7', null, { loss: 0.5 }],
      ['failed', null, null, 'ValueError: no', {}],
    ],
  );
  assert.match(
    await readFile(path.join(record.experimentDir, 'results.csv'), 'utf8'),
    /^index,lr,status,duration_s,node,array_task_id,error,loss\r\n0,1,completed,3,n7,,,0\.5\r\n1,2,failed,,,,ValueError: no,\r\n$/,
  );
  const progress: string[] = [];
  await manager.waitUntilEnded(record.id, new AbortController().signal, (message) => progress.push(message));
  assert.deepEqual(progress, ['2 of 2 done, 1 failed']);
  await closeOf(manager);
});

test('refusals write nothing: an experiment folder that holds a sweep, a submit the executor refuses', async () => {
  const { dir, executor, manager } = await setup();
  const { record } = await manager.start({ notebookPath: 'train.ipynb', experimentName: 'once', parameters: { lr: [1] } });
  await assert.rejects(manager.start({ notebookPath: 'train.ipynb', experimentName: 'once', parameters: { lr: [2] } }), (error: JlabError) => {
    assert.equal(error.code, 'SWEEP_EXISTS');
    assert.match(error.message, new RegExp(`sweep ${record.id}`));
    return true;
  });
  // Another jlab-mcp (no shared registry) still finds the sweep by its sweep.json.
  const other = new SweepManager({ notebookDir: dir, maxRuns: 100, kind: 'local', defaultMaxConcurrent: 1, executorFor: () => executor });
  await assert.rejects(other.start({ notebookPath: 'train.ipynb', experimentName: 'once', parameters: { lr: [2] } }), new RegExp(record.id));
  executor.refuse = new JlabError('SWEEP_TOO_LARGE', 'array larger than MaxArraySize 4');
  await assert.rejects(manager.start({ notebookPath: 'train.ipynb', experimentName: 'refused', parameters: { lr: [1, 2] } }), /MaxArraySize/);
  assert.equal(existsSync(path.join(dir, 'refused')), false);
  const dry = await manager.start({ notebookPath: 'train.ipynb', experimentName: 'dry', parameters: { lr: [1, 2] }, dryRun: true });
  assert.equal(dry.plan.command, 'fake --array');
  assert.equal(existsSync(path.join(dir, 'dry')), false);
  await assert.rejects(manager.start({ notebookPath: 'train.ipynb', experimentName: 'x', parameters: { lr: [1] }, maxConcurrent: 0 }), /max_concurrent/);
  await closeOf(manager);
});

test('cancel asks for the live runs only; rerun failed is a new attempt of those runs, the newest attempt wins', async () => {
  const { executor, manager } = await setup();
  const { record } = await manager.start({ notebookPath: 'train.ipynb', experimentName: 'r', parameters: { lr: [1, 2, 3] } });
  executor.states.set(0, { index: 0, state: 'completed' });
  executor.states.set(1, { index: 1, state: 'timeout', error: 'cell 2 exceeded 5 s' });
  await manager.cancel(record.id, [0, 2]);
  assert.deepEqual(executor.cancels, [[2]]);
  await assert.rejects(manager.cancel(record.id, [7]), /no run 7/);
  const view = await manager.rerun(record.id, 'failed');
  assert.deepEqual(
    executor.launches[1]?.runs.map((run) => run.index),
    [1],
  );
  assert.equal(executor.launches[1]?.attempt, 2);
  assert.deepEqual(
    view.rows.map((row) => row.status),
    ['completed', 'pending', 'cancelled'],
  );
  await assert.rejects(manager.rerun(record.id, [1]), /have not ended/);
  executor.states.set(1, { index: 1, state: 'completed' });
  assert.equal((await manager.status(record.id)).rows[1]?.status, 'completed');
  assert.equal(record.attempts.length, 2);
  await closeOf(manager);
});

test('sweeps live in the session registry and come back after a restart', async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sweep-state-'));
  const registry = await SessionRegistry.open(stateDir);
  const { dir, executor, manager } = await setup({ registry });
  const { record } = await manager.start({ notebookPath: 'train.ipynb', experimentName: 'kept', parameters: { lr: [1, 2] } });
  executor.states.set(0, { index: 0, state: 'completed' });
  await manager.status(record.id);
  await closeOf(manager);
  await registry.flush(true);

  const reopened = await SessionRegistry.open(stateDir);
  const again = new SweepManager({ notebookDir: dir, maxRuns: 100, kind: 'local', defaultMaxConcurrent: 1, executorFor: () => executor, registry: reopened });
  assert.deepEqual(
    again.list().map((each) => each.id),
    [record.id],
  );
  executor.states.set(1, { index: 1, state: 'failed', error: 'node failure' });
  const { rows } = await again.status(record.id);
  assert.deepEqual(
    rows.map((row) => row.status),
    ['completed', 'failed'],
  );
  assert.throws(() => again.get('nope'), /Unknown sweep/);
  await closeOf(again);
  await reopened.flush(true);
});
