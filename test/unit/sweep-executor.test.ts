// The local sweep executor on scripted fake kernels: the cap, the endings, cancel, exit, restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ServerPool } from '../../src/sessions/serverPool.js';
import { LocalSweepExecutor } from '../../src/sweeps/localExecutor.js';
import type { RunReport, SubmittedAttempt, SweepLaunch } from '../../src/sweeps/types.js';
import { FakeKernel, type CellScript, untilInterrupted } from '../helpers/fakeKernel.js';
import { waitUntil } from '../helpers/poll.js';

/** A fake kernel that also answers the silent request that defines record(). */
class RunFakeKernel extends FakeKernel {
  silent: string[] = [];
  async evaluateSilently(code: string): Promise<Record<string, unknown>> {
    this.silent.push(code);
    return {};
  }
}

const code = (source: string) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null });

async function launchOf(runCount: number, cells: string[], extra: Partial<SweepLaunch> = {}): Promise<SweepLaunch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sweep-executor-'));
  const runs = [];
  for (let index = 0; index < runCount; index++) {
    const notebookPath = path.join(dir, `run-000${index}.ipynb`);
    await writeFile(notebookPath, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [code(`i = ${index}`), ...cells.map(code)] }));
    runs.push({ index, parameters: { i: index }, notebookPath });
  }
  return { sweepId: 'abcd', experimentDir: dir, runs, maxConcurrent: 2, attempt: 1, ...extra };
}

/** An executor whose kernels run `scripts` (by cell source); every kernel it started is kept. */
function executorWith(scripts: Record<string, CellScript>) {
  const kernels: RunFakeKernel[] = [];
  let live = 0;
  let most = 0;
  const executor = new LocalSweepExecutor({
    kind: 'local',
    servers: undefined as unknown as ServerPool, // never asked: the kernels come from startKernel
    kernelStartTimeoutMs: 1000,
    saveIntervalMs: 50,
    startKernel: async () => {
      const kernel = new RunFakeKernel();
      for (const [source, script] of Object.entries(scripts)) kernel.on(source, script);
      live++;
      most = Math.max(most, live);
      const shutdown = kernel.shutdown.bind(kernel);
      kernel.shutdown = async () => {
        live--;
        await shutdown();
      };
      kernels.push(kernel);
      return kernel;
    },
  });
  return { executor, kernels, most: () => most };
}

const ended = (reports: RunReport[]) => reports.every((report) => report.state !== 'pending' && report.state !== 'running');
const finish = (executor: LocalSweepExecutor, launch: SweepLaunch, attempt: SubmittedAttempt) =>
  waitUntil('every run to end', async () => {
    const reports = await executor.poll(launch, attempt);
    return ended(reports) ? reports : undefined;
  });

test('at most max_concurrent runs at once, each on its own kernel, shut down after; outputs saved', async () => {
  const slow: CellScript = async (run) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    run.stream('done\n');
  };
  const { executor, kernels, most } = executorWith({ work: slow });
  const launch = await launchOf(5, ['work']);
  const attempt = await executor.submit(launch);
  const reports = await finish(executor, launch, attempt);
  assert.deepEqual(
    reports.map((report) => report.state),
    ['completed', 'completed', 'completed', 'completed', 'completed'],
  );
  assert.equal(most(), 2);
  assert.equal(kernels.length, 5);
  assert.ok(kernels.every((kernel) => kernel.shutDown && kernel.silent.length === 1 && kernel.silent[0]!.includes('def record(')));
  const saved = JSON.parse(await readFile(launch.runs[3]!.notebookPath, 'utf8')) as {
    cells: Array<{ outputs: Array<{ text: string }>; execution_count: number }>;
  };
  assert.deepEqual(saved.cells[1]?.outputs[0]?.text, 'done\n');
  assert.equal(saved.cells[1]?.execution_count, 2);
  const status = JSON.parse(await readFile(path.join(launch.experimentDir, '.run-0003.status.json'), 'utf8')) as { state: string };
  assert.equal(status.state, 'completed');
});

test('an error stops the run at that cell; a cell past cell_timeout is interrupted and ends the run as timeout', async () => {
  const { executor, kernels } = executorWith({ boom: (run) => run.error('ValueError', 'bad\nsecond line'), hang: untilInterrupted() });
  const failing = await launchOf(1, ['boom', 'after']);
  const attempt = await executor.submit(failing);
  const [failed] = await finish(executor, failing, attempt);
  assert.deepEqual([failed?.state, failed?.error, failed?.cellReached], ['failed', 'ValueError: bad', 1]);
  assert.ok(!kernels[0]!.requests.some((request) => request.code === 'after'), 'the cell after the error never ran');

  const hanging = await launchOf(1, ['hang'], { sweepId: 'efgh', cellTimeoutS: 0.1 });
  const timedAttempt = await executor.submit(hanging);
  const [timedOut] = await finish(executor, hanging, timedAttempt);
  assert.deepEqual([timedOut?.state, timedOut?.error], ['timeout', 'cell 1 exceeded 0.1 s']);
  assert.equal(kernels[1]!.interrupts, 1);
  assert.ok(kernels[1]!.shutDown);
});

test('a kernel that dies fails its run with the cell', async () => {
  const { executor, kernels } = executorWith({ crash: async () => kernels.at(-1)!.die() });
  const launch = await launchOf(1, ['crash']);
  const [report] = await finish(executor, launch, await executor.submit(launch));
  assert.deepEqual([report?.state, report?.error], ['failed', 'kernel died in cell 1']);
});

test('cancel: a queued run ends at once, a running one stops; exit fails the rest, and a new executor reads the status files', async () => {
  const { executor, kernels } = executorWith({ hang: untilInterrupted() });
  const launch = await launchOf(4, ['hang'], { maxConcurrent: 1 });
  const attempt = await executor.submit(launch);
  await waitUntil('run 0 to run its cell', () => kernels[0]?.requests.some((request) => request.code === 'hang'));
  await executor.cancel(launch, attempt, [2]);
  assert.deepEqual(
    (await executor.poll(launch, attempt)).map((report) => report.state),
    ['running', 'pending', 'cancelled', 'pending'],
  );
  await executor.cancel(launch, attempt, [0]);
  await waitUntil('run 1 to start', async () => (await executor.poll(launch, attempt))[1]?.state === 'running');
  await executor.shutdown();
  const reports = await executor.poll(launch, attempt);
  assert.deepEqual(
    reports.map((report) => [report.state, report.error]),
    [
      ['cancelled', 'cancelled by cancel_sweep'],
      ['failed', 'jlab-mcp exited'],
      ['cancelled', 'cancelled by cancel_sweep'],
      ['failed', 'jlab-mcp exited'],
    ],
  );
  assert.ok(kernels.length <= 2, 'runs 2 and 3 never started a kernel');
  assert.ok(kernels.every((kernel) => kernel.shutDown));

  const { executor: restarted } = executorWith({});
  assert.deepEqual(
    (await restarted.poll(launch, attempt)).map((report) => report.state),
    ['cancelled', 'failed', 'cancelled', 'failed'],
  );
});

test('a run cancelled while its kernel starts shuts that kernel down', async () => {
  const kernel = new RunFakeKernel();
  const executor = new LocalSweepExecutor({
    kind: 'local',
    servers: undefined as unknown as ServerPool,
    kernelStartTimeoutMs: 1000,
    saveIntervalMs: 50,
    startKernel: () => new Promise((resolve) => setTimeout(() => resolve(kernel), 50)),
  });
  const launch = await launchOf(1, ['work']);
  const attempt = await executor.submit(launch);
  await executor.cancel(launch, attempt);
  const [report] = await executor.poll(launch, attempt);
  assert.equal(report?.state, 'cancelled');
  assert.ok(kernel.shutDown);
  assert.deepEqual(kernel.requests, []);
});

test('after a crash of jlab-mcp, a run left running is failed and its kernel shut down, once', async () => {
  const launch = await launchOf(2, ['work']);
  await writeFile(path.join(launch.experimentDir, '.run-0000.status.json'), JSON.stringify({ state: 'completed', kernelId: 'k-done' }));
  await writeFile(
    path.join(launch.experimentDir, '.run-0001.status.json'),
    JSON.stringify({ state: 'running', startedAt: '2026-01-01T00:00:00Z', kernelId: 'k-left', cellReached: 1 }),
  );
  const shut: string[] = [];
  const executor = new LocalSweepExecutor({
    kind: 'local',
    servers: undefined as unknown as ServerPool,
    kernelStartTimeoutMs: 1000,
    saveIntervalMs: 50,
    shutdownKernel: async (_launch, kernelId) => {
      shut.push(kernelId);
    },
  });
  const attempt = { attempt: 1, runIndices: [0, 1], submittedAt: '2026-01-01T00:00:00Z' };
  const reports = await executor.poll(launch, attempt);
  assert.deepEqual(reports, [
    { index: 0, state: 'completed' },
    {
      index: 1,
      state: 'failed',
      startedAt: '2026-01-01T00:00:00Z',
      cellReached: 1,
      error: 'jlab-mcp exited before this run ended',
      endedAt: '2026-01-01T00:00:00Z',
    },
  ]);
  await executor.poll(launch, attempt);
  assert.deepEqual(shut, ['k-left']);
});
