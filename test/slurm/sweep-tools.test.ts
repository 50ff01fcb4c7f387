// Sweeps through the MCP tools on the real one-node Slurm: the built binary in slurm mode plans,
// submits one job array, is killed mid-sweep, and a new jlab-mcp follows the same sweep to its end.
// Needs `npm run build` first and a running cluster (scripts/slurm-cluster.sh up); skipped without one.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { waitUntil } from '../helpers/poll.js';
import { waitUntilGone } from '../helpers/processes.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { binarySkipReason, run, SlurmTestScratch, slurmEnv } from './helpers.js';

const skip = await binarySkipReason();
if (skip) console.error(`skipping SLURM sweep tool tests: ${skip}`);

const scratch = new SlurmTestScratch();

type Row = { index: number; status: string; error: string | null; values: Record<string, unknown>; notebook: string; array_task_id: number | null };

const code = (source: string, tags?: string[]) => ({ cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });

const NOTEBOOK = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    code('x = 1\nfail = False', ['parameters']),
    code('import time\ntime.sleep(3)\nif fail:\n    raise ValueError(f"bad x {x}")'),
    code('record("square", x * x)'),
  ],
});

const rowsOf = (result: ToolResult) => result.structuredContent?.runs as Row[];

describe('sweeps through the tools on SLURM', { skip, timeout: 600_000 }, () => {
  const spawned: Spawned[] = [];
  after(async () => {
    for (const server of spawned) await server.close().catch(() => {});
  });

  it('dry run, one array job, a failed run, a cancelled one; jlab-mcp killed mid-sweep and the next one follows it to the end; rerun of the failed run', async () => {
    const stateDir = await scratch.tempDir('jlab-sweep-state-');
    const env = slurmEnv({ JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_SLURM_STATE_DIR: await scratch.tempDir('jlab-slurm-state-') });
    const first = scratch.killAtEnd(await spawnServer(env));
    spawned.push(first);
    const notebook = path.join(first.notebookDir, 'grid.ipynb');
    await writeFile(notebook, NOTEBOOK);
    const runs = [1, 2, 3, 4].map((x) => ({ x, fail: x === 2 }));

    const planned = await call(first.client, 'start_sweep', { notebook_path: 'grid.ipynb', experiment_name: 'grid', runs, max_concurrent: 2, dry_run: true });
    assert.notEqual(planned.isError, true, textOf(planned));
    assert.equal(planned.structuredContent?.state, 'planned');
    assert.match(String(planned.structuredContent?.command), /^sbatch .*--array=0-3%2/);
    assert.ok(!existsSync(path.join(first.notebookDir, 'grid')), 'a dry run writes nothing');

    const started = await call(first.client, 'start_sweep', { notebook_path: 'grid.ipynb', experiment_name: 'grid', runs, max_concurrent: 2 }, 120_000);
    assert.notEqual(started.isError, true, textOf(started));
    const sweepId = String(started.structuredContent?.sweep_id);
    const jobIds = started.structuredContent?.job_ids as string[];
    assert.equal(jobIds.length, 1, 'one array job');
    scratch.submitted.add(jobIds[0]!);
    const queued = await run('squeue', ['--noheader', '--array', '--jobs', jobIds[0]!, '--format=%i']);
    assert.ok(queued.stdout.trim().split('\n').length >= 2, `the array's tasks are in the queue: ${queued.stdout}`);
    // Two at a time: the last run is still pending now, so it never starts.
    const cancelled = await call(first.client, 'cancel_sweep', { sweep_id: sweepId, run_indices: [3] });
    assert.notEqual(cancelled.isError, true, textOf(cancelled));

    // Killed mid-sweep: the array job is not touched by the exit of jlab-mcp.
    await waitUntil(
      'a run is running',
      async () => rowsOf(await call(first.client, 'sweep_status', { sweep_id: sweepId })).some((row) => row.status === 'running'),
      {
        timeoutMs: 120_000,
        intervalMs: 1000,
      },
    );
    const firstPid = first.pid()!;
    process.kill(firstPid, 'SIGKILL');
    assert.deepEqual(await waitUntilGone([firstPid], 20_000), [], 'the first jlab-mcp is gone');

    const second = scratch.killAtEnd(await spawnServer(env, first.notebookDir));
    spawned.push(second);
    const listed = await call(second.client, 'list_sweeps');
    assert.match(textOf(listed), new RegExp(sweepId));
    const ended = await waitUntil(
      'the sweep ended',
      async () => {
        const status = await call(second.client, 'sweep_status', { sweep_id: sweepId });
        return status.structuredContent?.state === 'ended' ? status : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
    const rows = rowsOf(ended);
    assert.deepEqual(
      rows.map((row) => row.status),
      ['completed', 'failed', 'completed', 'cancelled'],
      JSON.stringify(rows),
    );
    assert.equal(rows[1]?.error, 'ValueError: bad x 2');
    assert.deepEqual(
      rows.map((row) => row.values.square ?? null),
      [1, null, 9, null],
    );
    assert.ok(
      rows.slice(0, 3).every((row) => Number.isInteger(row.array_task_id)),
      'the runs that ran name their array task',
    );
    await validateWithPython(rows.slice(0, 3).map((row) => row.notebook));
    const csv = await readFile(path.join(second.notebookDir, 'grid', 'results.csv'), 'utf8');
    assert.match(csv, /\n1,2,true,failed,/);

    // The notebook fixed, only the failed run again: a new attempt, the same notebook.
    await writeFile(notebook, NOTEBOOK.replace('raise ValueError', 'print'));
    const rerun = await call(second.client, 'rerun_sweep', { sweep_id: sweepId, only: 'failed' }, 120_000);
    assert.notEqual(rerun.isError, true, textOf(rerun));
    for (const id of rerun.structuredContent?.job_ids as string[]) scratch.submitted.add(id);
    const again = await waitUntil(
      'the rerun ended',
      async () => {
        const status = await call(second.client, 'sweep_status', { sweep_id: sweepId });
        return status.structuredContent?.state === 'ended' ? status : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
    assert.deepEqual(
      rowsOf(again).map((row) => row.status),
      ['completed', 'completed', 'completed', 'cancelled'],
    );
    assert.equal(rowsOf(again)[1]?.values.square, 4);
    assert.equal(rowsOf(again)[1]?.notebook, rows[1]?.notebook, 'the same notebook path');
  });
});
