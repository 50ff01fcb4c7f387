// The SLURM sweep executor on a real cluster (scripts/slurm-cluster.sh up); skipped without one.
// Run notebooks are written here by hand with an injected-parameters cell (the core's injection is tested elsewhere).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { BatchSettings } from '../../src/backends/slurm/batchScript.js';
import { SlurmSweepExecutor } from '../../src/sweeps/slurm/index.js';
import type { RunReport, SubmittedAttempt, SweepLaunch } from '../../src/sweeps/types.js';
import { JlabError } from '../../src/util/errors.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { SlurmTestScratch, clusterSkipReason, waitFor } from './helpers.js';
import { RECORD_HELPER_PYTHON } from '../../src/sweeps/recordHelper.js';

const skip = await clusterSkipReason();
if (skip) console.error(`skipping SLURM sweep tests: ${skip}`);

const scratch = new SlurmTestScratch();

const BASE: BatchSettings = { partition: 'debug', cpus: 1, time: '10', jupyterCommand: ['jupyter-server'] };

function executor(settings: Partial<BatchSettings> = {}): SlurmSweepExecutor {
  return new SlurmSweepExecutor({ settingsFor: () => ({ ...BASE, ...settings }), recordHelperPython: RECORD_HELPER_PYTHON, commandTimeoutMs: 20_000 });
}

interface RunNotebook {
  cells: { cell_type: string; source: string; outputs?: { output_type: string; data?: Record<string, unknown>; ename?: string; text?: string }[] }[];
}

/** An experiment folder with one run notebook per parameter value: an injected-parameters cell, then `cells`. */
async function experiment(name: string, values: number[], cells: string[], over: Partial<SweepLaunch> = {}): Promise<SweepLaunch> {
  const dir = path.join(await scratch.tempDir('jlab-sweep-'), name);
  await mkdir(dir);
  const runs = await Promise.all(
    values.map(async (x, index) => {
      const notebookPath = path.join(dir, `run-${String(index).padStart(4, '0')}.ipynb`);
      const code = (source: string, id: string, tags: string[] = []) => ({
        cell_type: 'code',
        id,
        metadata: { tags },
        source,
        outputs: [],
        execution_count: null,
      });
      const notebook = {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        cells: [code(`x = ${x}`, 'injected', ['injected-parameters']), ...cells.map((source, i) => code(source, `cell-${i}`))],
      };
      await writeFile(notebookPath, `${JSON.stringify(notebook, null, 1)}\n`);
      return { index, parameters: { x }, notebookPath };
    }),
  );
  return { sweepId: `test-${name}`, experimentDir: dir, runs, maxConcurrent: 2, attempt: 1, ...over };
}

const ENDED = new Set(['completed', 'failed', 'cancelled', 'timeout']);

async function waitAllEnded(exec: SlurmSweepExecutor, launch: SweepLaunch, attempt: SubmittedAttempt, timeoutMs: number): Promise<RunReport[]> {
  let last: RunReport[] = [];
  return waitFor(`all runs of ${launch.sweepId} ended (last: ${JSON.stringify(last)})`, timeoutMs, async () => {
    last = await exec.poll(launch, attempt);
    return last.every((r) => ENDED.has(r.state)) ? last : undefined;
  });
}

async function readRun(file: string): Promise<RunNotebook> {
  return JSON.parse(await readFile(file, 'utf8')) as RunNotebook;
}

/** The largest number of runs whose [startedAt, endedAt) overlap at one instant. */
function maxOverlap(reports: RunReport[]): number {
  const edges = reports
    .filter((r) => r.startedAt && r.endedAt)
    .flatMap((r) => [
      { t: Date.parse(r.startedAt!), d: 1 },
      { t: Date.parse(r.endedAt!), d: -1 },
    ])
    .sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const edge of edges) max = Math.max(max, (now += edge.d));
  return max;
}

describe('SLURM sweep array executor', { skip: skip || false, concurrency: true, timeout: 240_000 }, () => {
  it('plans the exact sbatch line with the scheduler estimate, and refuses an array past MaxArraySize without writing', async () => {
    const exec = executor();
    const launch = await experiment('plan', [1, 2, 3, 4, 5, 6], ['y = x']);
    const plan = await exec.plan(launch);
    assert.match(
      plan.command ?? '',
      /^sbatch --parsable --array=0-5%2 --job-name=jlab-mcp-sweep-test-plan-a1 --output=\S+\/plan\/\.slurm\/attempt-1-%A_%a\.out --chdir=\S+ \S+\/attempt-1\.sh$/,
    );
    assert.match(plan.startEstimate ?? '', /^start at \d{4}-\d\d-\d\dT[\d:]+ .*partition debug$/);
    assert.equal(existsSync(path.join(launch.experimentDir, '.slurm')), false, 'a plan writes nothing');

    const huge = {
      ...launch,
      runs: Array.from({ length: 1002 }, (_, index) => ({ index, parameters: {}, notebookPath: path.join(launch.experimentDir, `run-${index}.ipynb`) })),
    };
    for (const call of [() => exec.plan(huge), () => exec.submit(huge)]) {
      await assert.rejects(call, (e: unknown) => e instanceof JlabError && e.code === 'INVALID_ARGUMENT' && /at most 1001 tasks/.test(e.message));
    }
    assert.equal(existsSync(path.join(launch.experimentDir, '.slurm')), false, 'nothing submitted, nothing written');
  });

  it('six runs with %2: at most two at once, one raises, one pending run cancelled; a fresh executor polls the same', async () => {
    const exec = executor();
    const launch = await experiment(
      'grid',
      [0, 1, 2, 3, 4, 5],
      ['import time\ntime.sleep(3)', 'if x == 3:\n    raise ValueError(f"bad x={x}")\nrecord("square", x * x)\nprint("done", x)'],
    );
    const attempt = await exec.submit(launch);
    if (attempt.jobId) scratch.submitted.add(attempt.jobId);
    assert.match(attempt.jobId ?? '', /^\d+$/);
    assert.deepEqual(attempt.runIndices, [0, 1, 2, 3, 4, 5]);
    // Run 5 waits behind the %2 throttle: cancelled now, it never starts.
    await exec.cancel(launch, attempt, [5]);

    // jlab-mcp "restarted": a new executor with nothing but the persisted attempt.
    const persisted = JSON.parse(JSON.stringify(attempt)) as SubmittedAttempt;
    const midway = await executor().poll(launch, persisted);
    assert.equal(midway.length, 6);
    assert.equal(midway[5]!.state, 'cancelled');

    const reports = await waitAllEnded(exec, launch, attempt, 150_000);
    const states = reports.map((r) => r.state);
    assert.deepEqual(states, ['completed', 'completed', 'completed', 'failed', 'completed', 'cancelled'], JSON.stringify(reports));
    assert.equal(reports[3]!.error, 'ValueError: bad x=3');
    assert.equal(reports[3]!.cellReached, 2);
    assert.deepEqual(
      reports.map((r) => r.arrayTaskId),
      [0, 1, 2, 3, 4, 5],
    );
    for (const r of reports.slice(0, 5)) assert.ok(r.startedAt && r.endedAt && r.node, `run ${r.index} has times and a node: ${JSON.stringify(r)}`);
    const overlap = maxOverlap(reports);
    console.error(
      `sweep-array: at most ${overlap} runs at once; ${reports.map((r) => `${r.index}:${r.startedAt?.slice(11, 23)}-${r.endedAt?.slice(11, 23)}`).join(' ')}`,
    );
    assert.ok(overlap <= 2, `the %2 throttle held (${overlap} at once)`);

    const restarted = await executor().poll(launch, persisted);
    assert.deepEqual(restarted, reports, 'a fresh executor reads the same reports');

    // Notebooks: valid, the values recorded, the traceback kept, the cancelled one untouched.
    await validateWithPython(launch.runs.map((r) => r.notebookPath));
    const ok = await readRun(launch.runs[2]!.notebookPath);
    const scrap = ok.cells[2]!.outputs!.find((o) => o.data?.['application/scrapbook.scrap.json+json']);
    assert.deepEqual(scrap?.data?.['application/scrapbook.scrap.json+json'], { name: 'square', data: 4, encoder: 'json', version: 1 });
    const failed = await readRun(launch.runs[3]!.notebookPath);
    assert.equal(failed.cells[2]!.outputs!.find((o) => o.output_type === 'error')?.ename, 'ValueError');
    const cancelled = await readRun(launch.runs[5]!.notebookPath);
    assert.deepEqual(
      cancelled.cells.map((c) => c.outputs?.length ?? 0),
      [0, 0, 0],
      'a cancelled pending run never ran',
    );
  });

  it('a task that reaches its walltime keeps the cells that ran and says which cell', async () => {
    const exec = executor({ time: '1' });
    const launch = await experiment('walltime', [7], ['print("before the long cell", x)', 'import time\ntime.sleep(600)', 'print("never")']);
    const attempt = await exec.submit(launch);
    if (attempt.jobId) scratch.submitted.add(attempt.jobId);
    // Slurm ends a 1-minute task within ~90 s here (its timer runs every 30 s).
    const [report] = await waitAllEnded(exec, launch, attempt, 200_000);
    assert.equal(report!.state, 'timeout', JSON.stringify(report));
    assert.equal(report!.error, 'walltime reached in cell 2');
    assert.equal(report!.cellReached, 2);
    await validateWithPython([launch.runs[0]!.notebookPath]);
    const nb = await readRun(launch.runs[0]!.notebookPath);
    assert.match(JSON.stringify(nb.cells[1]!.outputs), /before the long cell 7/);
    assert.deepEqual(nb.cells[3]!.outputs, []);
  });

  it('a kernel that dies fails its run; attempt 2 reruns only that run, as task 0, blind to attempt 1', async () => {
    const exec = executor();
    const launch = await experiment('rerun', [0, 1], ['if x == 1:\n    import os\n    os._exit(1)\nrecord("x", x)']);
    const first = await exec.submit(launch);
    if (first.jobId) scratch.submitted.add(first.jobId);
    const ended = await waitAllEnded(exec, launch, first, 120_000);
    assert.deepEqual(
      ended.map((r) => [r.state, r.error]),
      [
        ['completed', undefined],
        ['failed', 'kernel died in cell 1'],
      ],
    );

    // The core's rerun rewrites the run's notebook (here: a value that does not kill the kernel) and submits attempt 2.
    const run1 = launch.runs[1]!;
    const nb = JSON.parse(await readFile(run1.notebookPath, 'utf8')) as { cells: { source: string }[] };
    nb.cells[0]!.source = 'x = 2';
    await writeFile(run1.notebookPath, JSON.stringify(nb));
    const rerun: SweepLaunch = { ...launch, runs: [run1], attempt: 2 };
    const second = await exec.submit(rerun);
    if (second.jobId) scratch.submitted.add(second.jobId);
    assert.deepEqual(second.runIndices, [1]);
    assert.notEqual((await exec.poll(rerun, second))[0]!.state, 'failed', "attempt 1's status is not attempt 2's");
    const [report] = await waitAllEnded(exec, rerun, second, 120_000);
    assert.deepEqual([report!.index, report!.state, report!.arrayTaskId], [1, 'completed', 0], JSON.stringify(report));
    assert.match(await readFile(run1.notebookPath, 'utf8'), /"data": 2/);
  });

  it('cancels a running run: the notebook keeps what ran, the run says cancelled in which cell', async () => {
    const exec = executor();
    const launch = await experiment('cancel', [1], ['print("started")', 'import time\ntime.sleep(600)']);
    const attempt = await exec.submit(launch);
    if (attempt.jobId) scratch.submitted.add(attempt.jobId);
    await waitFor('run 0 in cell 2', 60_000, async () => ((await exec.poll(launch, attempt))[0]?.cellReached === 2 ? true : undefined));
    await exec.cancel(launch, attempt);
    const [report] = await waitAllEnded(exec, launch, attempt, 60_000);
    assert.deepEqual([report!.state, report!.error], ['cancelled', 'cancelled in cell 2'], JSON.stringify(report));
    const nb = await readRun(launch.runs[0]!.notebookPath);
    assert.match(JSON.stringify(nb.cells[1]!.outputs), /started/);
  });
});
