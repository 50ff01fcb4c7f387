// Sweeps on the local backend through the built binary: a real Jupyter server runs every run.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, errorOf, missingBuildReason, spawnServer, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { readNotebook } from '../helpers/notebookFile.js';
import { waitUntil } from '../helpers/poll.js';
import { connectTasksClient } from '../helpers/tasksClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import type { TaskExecutionEvent, TaskOutcome } from '@modelcontextprotocol/ext-tasks/client';

type Row = { index: number; parameters: Record<string, unknown>; status: string; error: string | null; values: Record<string, unknown>; notebook: string };
type Cell = { cell_type: string; source: string[] | string; metadata: { tags?: string[] }; outputs?: Array<{ output_type: string; ename?: string }> };

const code = (source: string, tags?: string[]) => ({ cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });

/** A notebook laid out as papermill documents it: defaults in a cell tagged `parameters`. */
function papermillNotebook(cells: object[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: [{ cell_type: 'markdown', metadata: {}, source: '# Grid' }, ...cells],
  });
}

const rowsOf = (result: ToolResult) => result.structuredContent?.runs as Row[];

describe('sweeps on the local backend', { skip: missingBuildReason() }, () => {
  let server: Spawned;
  before(async () => {
    server = await spawnServer({ JLAB_MCP_SWEEP_MAX_RUNS: '50' });
    const nb = papermillNotebook([
      code('x = 1\nfail = False\nsleep_s = 0.0', ['parameters']),
      code('import time, json, os\nstarted = time.time()\ntime.sleep(sleep_s)\nif fail:\n    raise ValueError(f"bad x {x}")'),
      code('record("square", x * x)\nrecord("span", [started, time.time()])'),
    ]);
    await writeFile(path.join(server.notebookDir, 'grid.ipynb'), nb);
  });
  after(async () => server?.close());

  it('runs a grid two at a time: table, values, injected cells, a failure with its error', async () => {
    const started = await call(server.client, 'start_sweep', {
      notebook_path: 'grid.ipynb',
      experiment_name: 'squares',
      runs: [1, 2, 3, 4, 5].map((x) => ({ x, sleep_s: 1.5, fail: x === 3 })),
      max_concurrent: 2,
      timeout: 120,
    });
    assert.equal(started.isError, undefined, JSON.stringify(started.content));
    const sweepId = String(started.structuredContent?.sweep_id);
    assert.equal(started.structuredContent?.state, 'ended');
    assert.match(String(started.structuredContent?.progress), /^5 of 5 done, 1 failed/);
    const rows = rowsOf(started);
    assert.deepEqual(
      rows.map((row) => row.status),
      ['completed', 'completed', 'failed', 'completed', 'completed'],
    );
    assert.equal(rows[2]?.error, 'ValueError: bad x 3');
    assert.deepEqual(
      rows.map((row) => row.values.square ?? null),
      [1, 4, null, 16, 25],
    );
    assert.ok(
      started.content.some((block) => block.type === 'image' && block.mimeType === 'image/png'),
      'a plot of square against x',
    );

    // Concurrency capped: at no moment more than two runs were inside their sleep.
    const spans = rows.filter((row) => row.values.span).map((row) => row.values.span as [number, number]);
    const most = Math.max(...spans.map(([start]) => spans.filter(([s, e]) => s <= start && start < e).length));
    assert.ok(most <= 2, `at most 2 runs at once, saw ${most}`);
    assert.ok(most === 2, 'two runs did overlap (the cap is not 1)');

    // Every run notebook is valid, with exactly one injected cell right after the parameters cell.
    const dir = path.join(server.notebookDir, 'squares');
    const notebooks = rows.map((row) => row.notebook);
    assert.deepEqual(
      notebooks.map((file) => path.basename(file)),
      ['run-0000.ipynb', 'run-0001.ipynb', 'run-0002.ipynb', 'run-0003.ipynb', 'run-0004.ipynb'],
    );
    await validateWithPython(notebooks);
    for (const file of notebooks) {
      const cells = (await readNotebook<{ cells: Cell[] }>(file)).cells;
      assert.deepEqual(
        cells.map((cell) => cell.metadata.tags ?? []).filter((tags) => tags.length > 0),
        [['parameters'], ['injected-parameters']],
      );
      assert.deepEqual(cells[2]?.metadata.tags, ['injected-parameters']);
    }
    const failed = (await readNotebook<{ cells: Cell[] }>(notebooks[2]!)).cells;
    assert.equal(failed[3]?.outputs?.[0]?.output_type, 'error', 'the traceback is in the failed run');
    assert.deepEqual(failed[4]?.outputs, [], 'cells after the error did not run');

    // results.csv / results.json hold the same table.
    const csv = (await readFile(path.join(dir, 'results.csv'), 'utf8')).split('\r\n');
    assert.equal(csv[0], 'index,x,sleep_s,fail,status,duration_s,node,array_task_id,error,square,span');
    assert.match(csv[3]!, /^2,3,1\.5,true,failed,[\d.]+,[^,]*,,ValueError: bad x 3,,$/);
    const json = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as { sweep_id: string; counts: Record<string, number> };
    assert.equal(json.sweep_id, sweepId);
    assert.equal(json.counts.completed, 4);

    // rerun only the failed run: a new attempt, the same notebook path.
    await writeFile(
      path.join(server.notebookDir, 'grid.ipynb'),
      (await readFile(path.join(server.notebookDir, 'grid.ipynb'), 'utf8')).replace('raise ValueError', 'print'),
    );
    const rerun = await call(server.client, 'rerun_sweep', { sweep_id: sweepId, only: 'failed' });
    assert.equal(rerun.isError, undefined, JSON.stringify(rerun.content));
    assert.equal(rerun.structuredContent?.attempts, 2);
    const again = await waitUntil(
      'the rerun to end',
      async () => {
        const status = await call(server.client, 'sweep_status', { sweep_id: sweepId });
        return status.structuredContent?.state === 'ended' ? status : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.deepEqual(
      rowsOf(again).map((row) => row.status),
      ['completed', 'completed', 'completed', 'completed', 'completed'],
    );
    assert.equal(rowsOf(again)[2]?.values.square, 9);
    assert.equal(rowsOf(again)[0]?.values.square, 1, 'the other runs kept their results');

    const listed = await call(server.client, 'list_sweeps');
    assert.ok((listed.structuredContent?.sweeps as Array<{ sweep_id: string }>).some((each) => each.sweep_id === sweepId));
  });

  it('cancels: pending runs never start, the running one stops', async () => {
    const started = await call(server.client, 'start_sweep', {
      notebook_path: 'grid.ipynb',
      experiment_name: 'slow',
      parameters: { x: [1, 2, 3], sleep_s: [60] },
      max_concurrent: 1,
    });
    assert.equal(started.isError, undefined, JSON.stringify(started.content));
    const sweepId = String(started.structuredContent?.sweep_id);
    await waitUntil(
      'the first run to start its sleep',
      async () => {
        const status = await call(server.client, 'sweep_status', { sweep_id: sweepId });
        return rowsOf(status)[0]?.status === 'running' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    const one = await call(server.client, 'cancel_sweep', { sweep_id: sweepId, run_indices: [2] });
    assert.deepEqual(
      rowsOf(one).map((row) => row.status),
      ['running', 'pending', 'cancelled'],
      'a queued run is cancelled at once, the others go on',
    );
    const cancelled = await call(server.client, 'cancel_sweep', { sweep_id: sweepId });
    assert.equal(cancelled.isError, undefined, JSON.stringify(cancelled.content));
    assert.deepEqual(
      rowsOf(cancelled).map((row) => row.status),
      ['cancelled', 'cancelled', 'cancelled'],
    );
    assert.equal(cancelled.structuredContent?.state, 'ended');
    const first = (await readNotebook<{ cells: Cell[] }>(rowsOf(cancelled)[0]!.notebook)).cells;
    assert.ok(first[2]?.outputs !== undefined, 'the cancelled run kept its notebook');
    await validateWithPython([rowsOf(cancelled)[0]!.notebook]);
  });

  it('per-run endings: a cell past cell_timeout, a kernel that dies — each a row with its reason', async () => {
    await writeFile(
      path.join(server.notebookDir, 'endings.ipynb'),
      papermillNotebook([
        code('how = "ok"', ['parameters']),
        code('import os, time\nif how == "die":\n    os._exit(1)\nif how == "hang":\n    time.sleep(60)'),
      ]),
    );
    const result = await call(server.client, 'start_sweep', {
      notebook_path: 'endings.ipynb',
      experiment_name: 'endings',
      parameters: { how: ['ok', 'hang', 'die'] },
      // Above the ~3 s in which Jupyter's restarter notices a dead kernel.
      cell_timeout: 8,
      timeout: 90,
    });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    assert.deepEqual(
      rowsOf(result).map((row) => [row.status, row.error]),
      [
        ['completed', null],
        ['timeout', 'cell 3 exceeded 8 s'],
        ['failed', 'kernel died in cell 3'],
      ],
    );
    await validateWithPython(rowsOf(result).map((row) => row.notebook));
  });

  it('refuses bad input with a clear error and writes nothing', async () => {
    const before = await readdir(server.notebookDir);
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ parameters: { x: [1] }, runs: [{ x: 1 }] }, 'INVALID_ARGUMENT', /not both/],
      [{}, 'INVALID_ARGUMENT', /neither/],
      [{ parameters: { x: [] } }, 'INVALID_ARGUMENT', /empty list/],
      [{ parameters: { 'not-a-name': [1] } }, 'INVALID_ARGUMENT', /not a Python identifier/],
      [{ parameters: { x: Array.from({ length: 51 }, (_, i) => i) } }, 'SWEEP_TOO_LARGE', /51 runs/],
      [{ parameters: { x: [1] }, experiment_name: 'squares' }, 'SWEEP_EXISTS', /already holds sweep [0-9a-f]{8}/],
      [{ parameters: { x: [1] }, notebook_path: 'missing.ipynb' }, 'NOTEBOOK_NOT_FOUND', /missing\.ipynb/],
    ];
    for (const [args, codeWanted, message] of cases) {
      const result = await call(server.client, 'start_sweep', { notebook_path: 'grid.ipynb', experiment_name: 'bad', ...args });
      assert.equal(result.isError, true, JSON.stringify(args));
      assert.equal(errorOf(result)?.code, codeWanted, `${JSON.stringify(args)}: ${JSON.stringify(result.content)}`);
      assert.match(errorOf(result)!.message, message);
      if (codeWanted !== 'SWEEP_EXISTS') continue;
      // The hint's call, followed literally, shows the sweep that holds the folder.
      const suggested = /sweep_status\(sweep_id=("[0-9a-f]+")\)/.exec(errorOf(result)!.hint ?? '');
      assert.ok(suggested, errorOf(result)!.hint);
      const followed = await call(server.client, 'sweep_status', { sweep_id: JSON.parse(suggested[1]!) as string });
      assert.equal(followed.isError, undefined, JSON.stringify(followed.content));
    }
    await writeFile(path.join(server.notebookDir, 'text.ipynb'), 'not json');
    const notNotebook = await call(server.client, 'start_sweep', { notebook_path: 'text.ipynb', experiment_name: 'bad', parameters: { x: [1] } });
    assert.equal(errorOf(notNotebook)?.code, 'NOTEBOOK_INVALID');
    const zero = await call(server.client, 'start_sweep', { notebook_path: 'grid.ipynb', experiment_name: 'bad', parameters: { x: [1] }, max_concurrent: 0 });
    assert.equal(zero.isError, true);
    assert.equal(existsSync(path.join(server.notebookDir, 'bad')), false, 'nothing written');
    assert.deepEqual((await readdir(server.notebookDir)).sort(), [...before, 'text.ipynb'].sort());

    const dry = await call(server.client, 'start_sweep', {
      notebook_path: 'grid.ipynb',
      experiment_name: 'dry',
      parameters: { x: [1, 2], fail: [true, false] },
      dry_run: true,
    });
    assert.equal(dry.structuredContent?.run_count, 4);
    assert.equal(dry.structuredContent?.state, 'planned');
    assert.deepEqual(rowsOf(dry)[1]?.parameters, { x: 1, fail: false });
    assert.equal(path.basename(rowsOf(dry)[3]!.notebook), 'run-0003.ipynb');
    assert.equal(existsSync(path.join(server.notebookDir, 'dry')), false, 'a dry run writes nothing');
  });

  it('as an MCP task: completes when every run ended, with progress "N of M done"', async () => {
    const client = await connectTasksClient('modern', { JLAB_MCP_LOG_LEVEL: 'info' }, server.notebookDir);
    try {
      const execution = await client.tasks.callTool(
        'start_sweep',
        { notebook_path: 'grid.ipynb', experiment_name: 'as-task', parameters: { x: [1, 2, 3], sleep_s: [1.5] }, max_concurrent: 1 },
        { task: { preference: 'prefer' } },
      );
      assert.equal(execution.kind, 'task');
      const messages: string[] = [];
      const { outcome } = await execution.settle({
        onEvent: (event: TaskExecutionEvent<unknown>) => {
          if (event.type === 'task' && event.task.status === 'working' && event.task.statusMessage) messages.push(event.task.statusMessage);
        },
      });
      const done = outcome as TaskOutcome<ToolResult>;
      assert.equal(done.status, 'completed', JSON.stringify(done));
      const result = (done as { result: ToolResult }).result;
      assert.equal(result.structuredContent?.state, 'ended');
      assert.deepEqual(
        rowsOf(result).map((row) => row.values.square),
        [1, 4, 9],
      );
      assert.ok(
        messages.some((message) => /^[0-2] of 3 done, 0 failed$/.test(message)),
        `progress while working: ${JSON.stringify(messages)}`,
      );
    } finally {
      await client.close();
    }
  });

  it('outlives a restart of jlab-mcp: the registry keeps the sweep; local runs cut short say so', async () => {
    const first = await spawnServer();
    let sweepId = '';
    try {
      await writeFile(path.join(first.notebookDir, 'grid.ipynb'), await readFile(path.join(server.notebookDir, 'grid.ipynb'), 'utf8'));
      const started = await call(first.client, 'start_sweep', {
        notebook_path: 'grid.ipynb',
        experiment_name: 'cut',
        runs: [{ x: 1 }, { x: 2, sleep_s: 60 }, { x: 3 }],
        max_concurrent: 1,
      });
      sweepId = String(started.structuredContent?.sweep_id);
      await waitUntil('run 1 to start', async () => rowsOf(await call(first.client, 'sweep_status', { sweep_id: sweepId }))[1]?.status === 'running', {
        timeoutMs: 30_000,
        intervalMs: 300,
      });
    } finally {
      await first.close();
    }
    // A small output budget: the table is cut and linked.
    const second = await spawnServer({ JLAB_MCP_OUTPUT_BUDGET: '500' }, first.notebookDir);
    try {
      const status = await call(second.client, 'sweep_status', { sweep_id: sweepId });
      assert.equal(status.isError, undefined, JSON.stringify(status.content));
      assert.deepEqual(status.structuredContent?.counts, { pending: 0, running: 0, completed: 1, failed: 2, cancelled: 0, timeout: 0 });
      const table = JSON.parse(await readFile(path.join(String(status.structuredContent?.experiment_dir), 'results.json'), 'utf8')) as { runs: Row[] };
      assert.deepEqual(
        table.runs.map((row) => [row.status, row.error]),
        [
          ['completed', null],
          ['failed', 'jlab-mcp exited'],
          ['failed', 'jlab-mcp exited'],
        ],
      );
      assert.equal(rowsOf(status)[0]?.values.square, 1);
      assert.ok(rowsOf(status).length < 3, 'cut to the budget');
      assert.equal(status.structuredContent?.truncated, true);
      const link = status.content.find((block) => block.type === 'resource_link') as { uri?: string } | undefined;
      assert.equal(link?.uri, `jlab-mcp://sweeps/${sweepId}/results.csv`);
      const csv = await second.client.readResource({ uri: link!.uri! });
      assert.match(String((csv.contents[0] as { text: string }).text), /^index,x,.*\r\n0,1,.*\r\n1,2,.*\r\n2,3,.*jlab-mcp exited/s);
      const cancelled = await call(second.client, 'cancel_sweep', { sweep_id: sweepId });
      assert.equal(cancelled.isError, undefined, 'cancel_sweep answers after a restart');
      const rerun = await call(second.client, 'rerun_sweep', { sweep_id: sweepId, only: [2] });
      assert.equal(rerun.structuredContent?.attempts, 2);
    } finally {
      await second.close();
    }
  });
});
