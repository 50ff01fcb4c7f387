import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fitEntries, jsonSize } from '../../src/introspect/budget.js';
import { parseGpuCsv, parseGpuProcessCsv } from '../../src/introspect/nvidiaSmi.js';
import { gpuReport, slurmReport } from '../../src/introspect/resources.js';
import { describeNotebook, scanNotebook } from '../../src/notebook/notebookListing.js';
import {
  MAX_RUNS_PER_CELL,
  RUNS_KEY,
  environmentsOf,
  lastRunOf,
  recordEnvironment,
  recordExecution,
  type EnvironmentRecord,
} from '../../src/notebook/provenance.js';
import type { CodeCell, NotebookContent } from '../../src/notebook/types.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/nvidia-smi/${name}`, import.meta.url), 'utf8');

describe('nvidia-smi CSV (hand-written samples)', () => {
  it('reads four A100s with memory, utilisation and temperature', async () => {
    const gpus = parseGpuCsv(await fixture('gpus-4xa100.csv'));
    assert.equal(gpus.length, 4);
    assert.deepEqual(gpus[0], {
      index: 0,
      uuid: 'GPU-5b2a3c1e-8f0d-4c3e-9a1b-2d3e4f5a6b7c',
      name: 'NVIDIA A100-SXM4-80GB',
      memory_used_mib: 40123,
      memory_total_mib: 81920,
      utilization_percent: 97,
      temperature_c: 61,
    });
    assert.deepEqual(
      gpus.map((gpu) => gpu.index),
      [0, 1, 2, 3],
    );
  });

  it('turns [N/A] and [Not Supported] into null, keeping the rest', async () => {
    const [geforce, h100] = parseGpuCsv(await fixture('gpus-na-fields.csv'));
    assert.equal(geforce?.utilization_percent, null);
    assert.equal(geforce?.memory_used_mib, 1024);
    assert.equal(h100?.name, 'NVIDIA H100 80GB HBM3');
    assert.deepEqual([h100?.memory_used_mib, h100?.memory_total_mib, h100?.utilization_percent, h100?.temperature_c], [null, null, null, null]);
  });

  it('reads GPU processes, a comma inside the process path included', async () => {
    const apps = parseGpuProcessCsv(await fixture('apps-two-processes.csv'));
    assert.deepEqual(apps[1], {
      gpu_uuid: 'GPU-e4f5a6b7-c8d9-4e0f-91a2-b3c4d5e6f7a8',
      pid: 48305,
      process_name: '/scratch/envs/torch, cu121/bin/python',
      used_memory_mib: 20470,
    });
    assert.deepEqual(parseGpuProcessCsv(await fixture('apps-none.csv')), []);
  });

  it('finds no GPU in the driver-failure message (not a crash, not a fake row)', async () => {
    assert.deepEqual(parseGpuCsv(await fixture('driver-failure.txt')), []);
    assert.deepEqual(parseGpuProcessCsv(await fixture('driver-failure.txt')), []);
  });

  it("marks the GPU processes that are this kernel's (its pid or a child's)", async () => {
    const report = gpuReport({ available: true, gpus: await fixture('gpus-4xa100.csv'), apps: await fixture('apps-two-processes.csv') }, [48211, 48212]);
    const gpus = report.gpus as Array<{ index: number; used_by_this_kernel: boolean; processes: Array<{ pid: number; this_kernel: boolean }> }>;
    assert.deepEqual(
      gpus.map((gpu) => gpu.used_by_this_kernel),
      [true, false, false, false],
    );
    assert.deepEqual(gpus[3]!.processes, [
      {
        gpu_uuid: 'GPU-e4f5a6b7-c8d9-4e0f-91a2-b3c4d5e6f7a8',
        pid: 48305,
        process_name: '/scratch/envs/torch, cu121/bin/python',
        used_memory_mib: 20470,
        this_kernel: false,
      },
    ]);
    assert.deepEqual(gpuReport({ available: false, reason: 'nvidia-smi is not on PATH on this host' }, []), {
      available: false,
      reason: 'nvidia-smi is not on PATH on this host',
    });
  });
});

describe('SLURM allocation in kernel_resources', () => {
  it('joins what squeue says (time left, GRES) with what the job sees (CPUs, memory)', () => {
    const report = slurmReport(
      {
        kind: 'slurm',
        jobId: '4711',
        node: 'gpu03',
        timeLeft: '1:02:03',
        timeLimit: '2:00:00',
        gres: 'gpu:a100:1',
        partition: 'gpu',
        walltime: { secondsLeft: 3723 },
      },
      { SLURM_JOB_ID: '4711', SLURM_CPUS_ON_NODE: '8', SLURM_MEM_PER_NODE: '32000', SLURM_JOB_GPUS: '2' },
    );
    assert.equal(report?.job_id, '4711');
    assert.equal(report?.cpus, 8);
    assert.equal(report?.memory_bytes, 32000 * 1024 * 1024);
    assert.equal(report?.seconds_left, 3723);
    assert.equal(report?.gres, 'gpu:a100:1');
    assert.equal(slurmReport({ kind: 'local' }, {}), undefined);
  });
});

describe('output budget of inspect answers', () => {
  it('drops entries from the end, then cuts the longest repr, to fit the budget', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({ name: `v${i}`, repr: 'x'.repeat(200) }));
    const result = { variables: entries, truncated: false } as { variables: typeof entries; omitted?: number };
    assert.equal(fitEntries(result, result.variables, 5000), true);
    assert.ok(jsonSize(result) <= 5000, String(jsonSize(result)));
    assert.equal(result.variables.length + (result.omitted ?? 0), 300);
    const one = { variables: [{ name: 'big', repr: 'y'.repeat(3_000_000) }] } as { variables: Array<{ name: string; repr: string }>; omitted?: number };
    assert.equal(fitEntries(one, one.variables, 4000), true);
    assert.ok(jsonSize(one) <= 4000, String(jsonSize(one)));
    assert.match(one.variables[0]!.repr, /characters cut to fit the output budget/);
    const small: { variables: Array<{ name: string; repr: string }>; omitted?: number } = { variables: [{ name: 'x', repr: '1' }] };
    assert.equal(fitEntries(small, small.variables, 4000), false);
  });
});

function codeCell(): CodeCell {
  return { cell_type: 'code', id: 'c1', metadata: {}, source: 'x = 1', outputs: [], execution_count: 1 };
}

describe('provenance in notebook metadata', () => {
  it("keeps JupyterLab's timing of the latest run and appends every run to the history", () => {
    const cell = codeCell();
    const run = (n: number) => ({
      started: `2025-01-01T00:00:0${n}.000Z`,
      ended: `2025-01-01T00:00:0${n}.500Z`,
      duration_s: 0.5,
      status: 'ok',
      execution_count: n,
      host: 'node1',
    });
    recordExecution(cell, { 'iopub.status.busy': '2025-01-01T00:00:01.000Z', 'shell.execute_reply': '2025-01-01T00:00:01.400Z' }, run(1));
    recordExecution(cell, { 'iopub.status.busy': '2025-01-01T00:00:02.000Z', 'iopub.status.idle': '2025-01-01T00:00:02.500Z' }, run(2));
    assert.deepEqual(cell.metadata.execution, { 'iopub.status.busy': '2025-01-01T00:00:02.000Z', 'iopub.status.idle': '2025-01-01T00:00:02.500Z' });
    assert.deepEqual(
      (cell.metadata[RUNS_KEY] as Array<{ execution_count: number }>).map((r) => r.execution_count),
      [1, 2],
    );
    // An aborted run (no timing) keeps the last timing and is still in the history.
    recordExecution(cell, {}, { ...run(3), status: 'aborted' });
    assert.equal((cell.metadata.execution as Record<string, string>)['iopub.status.busy'], '2025-01-01T00:00:02.000Z');
    assert.equal((cell.metadata[RUNS_KEY] as unknown[]).length, 3);
    assert.equal(lastRunOf(cell.metadata), '2025-01-01T00:00:03.500Z');
  });

  it('counts re-runs in the same session in one history entry; another session appends', () => {
    const cell = codeCell();
    const run = (session: string, n: number) => ({
      started: 's',
      ended: `e${n}`,
      duration_s: 0,
      status: 'ok',
      execution_count: n,
      session_id: session,
      environment: `env-${session}`,
    });
    for (let i = 1; i <= 50; i++) recordExecution(cell, {}, run('a', i));
    recordExecution(cell, {}, run('b', 51));
    const runs = cell.metadata[RUNS_KEY] as Array<{ session_id: string; runs?: number; execution_count: number }>;
    assert.deepEqual(
      runs.map((r) => [r.session_id, r.runs ?? 1, r.execution_count]),
      [
        ['a', 50, 50],
        ['b', 1, 51],
      ],
    );
  });

  it(`bounds a cell's history at ${MAX_RUNS_PER_CELL} runs, dropping the oldest`, () => {
    const cell = codeCell();
    for (let i = 0; i < MAX_RUNS_PER_CELL + 5; i++) recordExecution(cell, {}, { started: 's', ended: 'e', duration_s: 0, status: 'ok', execution_count: i });
    const runs = cell.metadata[RUNS_KEY] as Array<{ execution_count: number }>;
    assert.equal(runs.length, MAX_RUNS_PER_CELL);
    assert.equal(runs[0]!.execution_count, 5);
  });

  it('appends environments, never replacing one, and keeps other keys', () => {
    const metadata: NotebookContent['metadata'] = { jlab_mcp: { other: 1, environments: [{ id: 'a', session_id: 's1' }] } };
    const env: EnvironmentRecord = { id: 'b', session_id: 's2', recorded_at: '2025-01-01T00:00:00.000Z', kernel: { name: 'python3' }, hostname: undefined };
    recordEnvironment(metadata, env);
    assert.deepEqual(
      environmentsOf(metadata).map((e) => e.id),
      ['a', 'b'],
    );
    assert.equal((metadata.jlab_mcp as { other: number }).other, 1);
    assert.ok(!('hostname' in environmentsOf(metadata)[1]!), 'undefined fields are not written');
  });
});

describe('notebook listing: large files are scanned, not parsed', () => {
  it('a text scan counts the same cells and finds the same last run as a full parse', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-scan-'));
    const tricky = 'a string that mentions "cell_type": "code" inside an output';
    const cells = Array.from({ length: 40 }, (_, i) => ({
      cell_type: i % 3 === 0 ? 'markdown' : 'code',
      id: `c${i}`,
      metadata: i % 3 === 0 ? {} : { execution: { 'shell.execute_reply': `2025-03-0${1 + (i % 9)}T10:00:00.000000Z` } },
      source: ['x'],
      ...(i % 3 === 0 ? {} : { outputs: [{ output_type: 'stream', name: 'stdout', text: [tricky, 'y'.repeat(5000)] }], execution_count: i }),
    }));
    const file = path.join(dir, 'big.ipynb');
    await writeFile(file, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }, null, 1));
    // Small chunks: keys and times split across chunk boundaries are still counted once.
    const scanned = await scanNotebook(file, 97);
    const parsed = await describeNotebook(file, 1, { fullParseBytes: 10 << 20, scanBytes: 0 });
    assert.equal(scanned.cells, 40);
    assert.equal(scanned.code_cells, parsed.code_cells);
    assert.equal(scanned.last_run, parsed.last_run);
    assert.equal(scanned.last_run, '2025-03-09T10:00:00.000000Z');
    const tooBig = await describeNotebook(file, 10 << 20, { fullParseBytes: 1, scanBytes: 2 });
    assert.equal(tooBig.cells, null);
  });
});
