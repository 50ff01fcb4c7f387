import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { readCells as readFileCells } from '../helpers/notebookFile.js';
import { waitUntil } from '../helpers/poll.js';

/** Code that swallows KeyboardInterrupt: only a kernel restart stops it. */
const STUBBORN = 'import time\nprint("stubborn", flush=True)\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass';

type NotebookCell = { cell_type: string; source: string[] | string; outputs?: Array<Record<string, unknown>>; metadata: Record<string, unknown> };

const readCells = (file: string) => readFileCells<NotebookCell>(file);

const sourceOf = (cell: NotebookCell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source);

/** Polls `check` every 50 ms until it returns true; fails with `what` after `ms`. */
const until = (check: () => Promise<boolean> | boolean, what: string, ms = 30_000) => waitUntil(what, check, { timeoutMs: ms, intervalMs: 50 });

function writeNotebook(file: string, sources: string[]): Promise<void> {
  const cells = sources.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null }));
  const nb = { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } }, cells };
  return writeFile(file, JSON.stringify(nb));
}

describe('sessions under faults: stuck kernels, edits during runs, resume deadlines', () => {
  let server: Spawned;
  let sid = '';
  let notebookPath = '';

  before(async () => {
    server = await spawnServer({ JLAB_MCP_INTERRUPT_GRACE: '2', JLAB_MCP_SAVE_INTERVAL: '1', JLAB_MCP_LOG_LEVEL: 'warn' });
    const started = await call(server.client, 'start_new_session', { experiment_name: 'faults' });
    sid = String(started.structuredContent?.session_id);
    notebookPath = String(started.structuredContent?.notebook_path);
  });
  after(async () => {
    await server?.close();
  });

  it('[fault] a cell that ignores KeyboardInterrupt → interrupt_kernel says so; force=true restarts the kernel, the cell is recorded as killed, the queue is released', async () => {
    await call(server.client, 'execute_code', { session_id: sid, code: 'before_restart = 1' });
    const started = await call(server.client, 'execute_code', { session_id: sid, code: STUBBORN, timeout: 1 });
    assert.match(textOf(started), /still running/);
    const queued = await call(server.client, 'execute_code', { session_id: sid, code: 'print("queued")', timeout: 0 });
    assert.match(textOf(queued), /Queued/);
    const soft = await call(server.client, 'interrupt_kernel', { session_id: sid });
    assert.equal(soft.structuredContent?.state, 'still_busy', textOf(soft));
    assert.equal(soft.structuredContent?.dropped_queued_cells, 1);
    assert.match(textOf(soft), /ignored the interrupt[\s\S]*force=true/);
    const forced = await call(server.client, 'interrupt_kernel', { session_id: sid, force: true });
    assert.equal(forced.structuredContent?.state, 'restarted', textOf(forced));
    const ended = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 20 });
    assert.match(textOf(ended), /KernelRestarted: The cell ignored the interrupt/);
    const next = await call(server.client, 'execute_code', { session_id: sid, code: "print('before_restart' in globals())", timeout: 20 });
    assert.match(textOf(next), /^False\n/, 'a fresh kernel runs the next cell at once');
    const cell = (await readCells(notebookPath)).find((c) => sourceOf(c) === STUBBORN)!;
    assert.equal(cell.outputs?.at(-1)?.ename, 'KernelRestarted');
    assert.equal(cell.outputs?.[0]?.text, 'stubborn\n');
    assert.equal(cell.metadata.jlab_mcp, undefined, 'no running mark left');
    await validateWithPython([notebookPath]);
  });

  it('[fault] a long cell is in the notebook while it runs: source, a running mark, output so far; the mark goes when it ends', async () => {
    const code = 'import time\nfor i in range(8):\n    print(f"beat {i}", flush=True)\n    time.sleep(0.5)';
    const first = await call(server.client, 'execute_code', { session_id: sid, code, timeout: 0 });
    assert.match(textOf(first), /still running/);
    let seen: NotebookCell | undefined;
    await until(async () => {
      seen = (await readCells(notebookPath)).find((c) => sourceOf(c) === code && String(c.outputs?.[0]?.text ?? '').includes('beat 2'));
      return seen !== undefined;
    }, 'the running cell and its first lines in the file');
    assert.equal((seen!.metadata.jlab_mcp as { status?: string } | undefined)?.status, 'running');
    await validateWithPython([notebookPath]);
    const done = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
    assert.match(textOf(done), /beat 7/);
    const finished = (await readCells(notebookPath)).find((c) => sourceOf(c) === code)!;
    assert.equal(finished.metadata.jlab_mcp, undefined);
    assert.match(String(finished.outputs?.[0]?.text), /beat 0\n[\s\S]*beat 7\n$/);
  });

  it('[fault] markdown edits and deletions above a running cell answer at once; its outputs still land in its own cell', async () => {
    const code = 'import time\nfor i in range(6):\n    print(f"row {i}", flush=True)\n    time.sleep(0.4)';
    await call(server.client, 'add_markdown', { session_id: sid, markdown: 'to be deleted', cell_index: 0 });
    const running = await call(server.client, 'execute_code', { session_id: sid, code, timeout: 0 });
    assert.match(textOf(running), /still running/);
    const inserted = await call(server.client, 'add_markdown', { session_id: sid, markdown: '# heading above', cell_index: 0 });
    assert.equal(inserted.isError, undefined, textOf(inserted));
    const edited = await call(server.client, 'edit_markdown', { session_id: sid, cell_index: 0, markdown: '# heading, edited' });
    assert.equal(edited.isError, undefined, textOf(edited));
    const deleted = await call(server.client, 'delete_cell', { session_id: sid, cell_index: 1 });
    assert.equal(deleted.structuredContent?.deleted_source, 'to be deleted');
    const still = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 0 });
    assert.match(textOf(still), /still running/, 'the edits did not wait for the cell');
    const done = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
    assert.match(textOf(done), /row 5/);
    const cells = await readCells(notebookPath);
    assert.equal(sourceOf(cells[0]!), '# heading, edited');
    assert.ok(!cells.some((c) => sourceOf(c) === 'to be deleted'));
    const own = cells.find((c) => sourceOf(c) === code)!;
    assert.equal(own.outputs?.[0]?.text, Array.from({ length: 6 }, (_, i) => `row ${i}\n`).join(''));
    assert.equal(cells.filter((c) => JSON.stringify(c.outputs ?? []).includes('row 0')).length, 1, 'outputs in exactly one cell');
    await validateWithPython([notebookPath]);
  });

  it('[fault] a resume past its timeout returns progress; the replay goes on and wait_for_cell follows it to the summary', async () => {
    const file = path.join(server.notebookDir, 'slow-replay.ipynb');
    await writeNotebook(file, ['import time\nx = 1', 'time.sleep(1)\nx += 1', 'time.sleep(1)\nx += 1', 'time.sleep(1)\nx += 1\nprint(x)']);
    const progress: string[] = [];
    const resumed = (await server.client.callTool(
      { name: 'start_session_resume_notebook', arguments: { experiment_name: 'slow', notebook_path: file, timeout: 1.5 } },
      { timeout: 60_000, onprogress: (p) => void progress.push(p.message ?? '') },
    )) as { structuredContent?: Record<string, unknown>; content: Array<{ text?: string }> };
    const replay = resumed.structuredContent?.replay as { status: string; cells_total: number; cells_run: number };
    assert.equal(replay.status, 'running', JSON.stringify(resumed.structuredContent));
    assert.equal(replay.cells_total, 4);
    assert.ok(replay.cells_run < 4);
    assert.ok(
      progress.some((m) => /cell \d of 4/.test(m)),
      `progress says "cell k of n": ${JSON.stringify(progress)}`,
    );
    const resumedId = String(resumed.structuredContent?.session_id);
    const queuedBehind = await call(server.client, 'execute_code', { session_id: resumedId, code: 'print("x is", x)', timeout: 0 });
    assert.match(textOf(queuedBehind), /Queued/, 'the agent cell waits for the replay');
    const waited = await call(server.client, 'wait_for_cell', { session_id: resumedId, timeout: 30 });
    const summary = waited.structuredContent?.replay as { status: string; cells_run: number };
    assert.equal(summary.status, 'done', textOf(waited));
    assert.equal(summary.cells_run, 4);
    const after = await call(server.client, 'wait_for_cell', { session_id: resumedId, timeout: 30 });
    assert.match(textOf(after), /x is 4/, 'the agent cell ran after the whole replay');
    await validateWithPython([file]);
    await call(server.client, 'shutdown_session', { session_id: resumedId });
  });

  it('[fault] a replayed cell past cell_timeout that ignores the interrupt → kernel restarted, CellTimeout recorded, the replay goes on', async () => {
    const file = path.join(server.notebookDir, 'stuck-replay.ipynb');
    await writeNotebook(file, ['a = 1', STUBBORN, 'print("after the stuck cell")']);
    const resumed = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'stuck', notebook_path: file, cell_timeout: 3, timeout: 60 });
    const replay = resumed.structuredContent?.replay as { status: string; cells_run: number };
    assert.equal(replay.status, 'done', textOf(resumed));
    assert.equal(replay.cells_run, 3);
    const errors = resumed.structuredContent?.restored_with_errors as Array<{ cell: { index: number }; ename: string }>;
    assert.deepEqual(
      errors.map((e) => [e.cell.index, e.ename]),
      [[1, 'CellTimeout']],
    );
    const cells = await readCells(file);
    assert.equal(cells[2]!.outputs?.[0]?.text, 'after the stuck cell\n');
    await validateWithPython([file]);
    await call(server.client, 'shutdown_session', { session_id: String(resumed.structuredContent?.session_id) });
  });

  it('[fault] cancelling a resume stops the replay and interrupts its cell; the session runs the next cell at once', async () => {
    const file = path.join(server.notebookDir, 'cancelled-replay.ipynb');
    await writeNotebook(
      file,
      Array.from({ length: 10 }, (_, i) => `import time\nprint("replaying ${i}", flush=True)\ntime.sleep(1)`),
    );
    const controller = new AbortController();
    const progress: string[] = [];
    const pending = server.client.callTool(
      { name: 'start_session_resume_notebook', arguments: { experiment_name: 'cancel', notebook_path: file, timeout: 120 } },
      { timeout: 180_000, signal: controller.signal, onprogress: (p) => void progress.push(p.message ?? '') },
    );
    pending.catch(() => {});
    await until(() => progress.some((m) => /cell [2-9] of 10/.test(m)), 'the replay reaching cell 2');
    controller.abort();
    const listed = await call(server.client, 'list_sessions');
    const session = (listed.structuredContent?.sessions as Array<{ session_id: string; notebook_path: string }>).find((s) => s.notebook_path === file)!;
    const waited = await call(server.client, 'wait_for_cell', { session_id: session.session_id, timeout: 30 });
    const summary = waited.structuredContent?.replay as { status: string; cells_run: number; stopped_because: string };
    assert.equal(summary.status, 'stopped', textOf(waited));
    assert.ok(summary.cells_run < 10, `${summary.cells_run} cells ran`);
    assert.match(summary.stopped_because, /cancelled/);
    const next = await call(server.client, 'execute_code', { session_id: session.session_id, code: 'print("next")', timeout: 10 });
    assert.match(textOf(next), /^next\n/);
    await validateWithPython([file]);
    await call(server.client, 'shutdown_session', { session_id: session.session_id });
  });

  it('[fault] a failing cell mid-replay: the cells after it still run, in order, once each (stop_on_error=false); with stop_on_error=true the rest keep their old outputs', async () => {
    const file = path.join(server.notebookDir, 'failing-replay.ipynb');
    const sources = ['import os\nlog = []\nlog.append(0)', 'log.append(1)\n1/0', 'log.append(2)', 'log.append(3)\nprint(log)'];
    await writeNotebook(file, sources);
    const goOn = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'go-on', notebook_path: file, timeout: 60 });
    assert.equal((goOn.structuredContent?.replay as { cells_run: number }).cells_run, 4, textOf(goOn));
    const errors = goOn.structuredContent?.restored_with_errors as Array<{ cell: { index: number }; ename: string }>;
    assert.deepEqual(
      errors.map((e) => [e.cell.index, e.ename]),
      [[1, 'ZeroDivisionError']],
    );
    let cells = await readCells(file);
    assert.equal(cells[3]!.outputs?.[0]?.text, '[0, 1, 2, 3]\n', 'every cell ran exactly once, in order');
    await call(server.client, 'shutdown_session', { session_id: String(goOn.structuredContent?.session_id) });

    const stop = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'stop', notebook_path: file, timeout: 60, stop_on_error: true });
    const replay = stop.structuredContent?.replay as { status: string; cells_run: number; stopped_because: string };
    assert.equal(replay.status, 'stopped', textOf(stop));
    assert.equal(replay.cells_run, 2);
    assert.match(replay.stopped_because, /cell 1 failed and stop_on_error is set/);
    cells = await readCells(file);
    assert.equal(cells[3]!.outputs?.[0]?.text, '[0, 1, 2, 3]\n', 'a cell the replay did not reach keeps its old output');
    await validateWithPython([file]);
    await call(server.client, 'shutdown_session', { session_id: String(stop.structuredContent?.session_id) });
  });

  it('[fault] two resumes of one notebook at once → exactly one wins, the other is told the notebook is busy', async () => {
    const file = path.join(server.notebookDir, 'contested.ipynb');
    await writeNotebook(file, ['print("contested")']);
    const results = await Promise.all([0, 1].map(() => call(server.client, 'start_session_resume_notebook', { experiment_name: 'race', notebook_path: file })));
    const winners = results.filter((r) => !r.isError);
    const losers = results.filter((r) => r.isError);
    assert.equal(winners.length, 1, results.map(textOf).join('\n---\n'));
    assert.match(textOf(losers[0]!), /NOTEBOOK_BUSY[\s\S]*already/);
    const cells = await readCells(file);
    assert.equal(cells[0]!.outputs?.[0]?.text, 'contested\n');
    await validateWithPython([file]);
    await call(server.client, 'shutdown_session', { session_id: String(winners[0]!.structuredContent?.session_id) });
  });

  it('[bad-input] code with a NUL or an unpaired surrogate is refused with where it is and how to write it; the session goes on', async () => {
    const nul = await call(server.client, 'execute_code', { session_id: sid, code: "x = 'a\0b'" });
    assert.equal(nul.isError, true);
    assert.match(textOf(nul), /NUL character \(line 1, column 7\)[\s\S]*\\x00/);
    const lone = await call(server.client, 'execute_code', { session_id: sid, code: "y = '\ud800'" });
    assert.equal(lone.isError, true);
    assert.match(textOf(lone), /unpaired UTF-16 surrogate U\+D800[\s\S]*\\ud800/);
    const fine = await call(server.client, 'execute_code', { session_id: sid, code: "print('\\x00' == chr(0), len('😀'))", timeout: 10 });
    assert.match(textOf(fine), /^True 1\n/);
  });
});

describe('interrupt escalation by setting', () => {
  let server: Spawned;
  after(async () => {
    await server?.close();
  });

  it('[fault] with JLAB_MCP_INTERRUPT_ESCALATION=restart, cancelling a request on a cell that ignores the interrupt frees the session', async () => {
    server = await spawnServer({ JLAB_MCP_INTERRUPT_GRACE: '1', JLAB_MCP_INTERRUPT_ESCALATION: 'restart', JLAB_MCP_LOG_LEVEL: 'warn' });
    const started = await call(server.client, 'start_new_session', { experiment_name: 'escalate' });
    const sid = String(started.structuredContent?.session_id);
    const controller = new AbortController();
    const progress: string[] = [];
    const pending = server.client.callTool(
      { name: 'execute_code', arguments: { session_id: sid, code: STUBBORN } },
      { timeout: 120_000, signal: controller.signal, onprogress: (p) => void progress.push(p.message ?? '') },
    );
    pending.catch(() => {});
    await until(() => progress.some((m) => m.includes('stubborn')), 'the stubborn cell running');
    controller.abort();
    const next = await call(server.client, 'execute_code', { session_id: sid, code: 'print("free")', timeout: 30 });
    assert.match(textOf(next), /^free\n/);
    const cells = await readCells(String(started.structuredContent?.notebook_path));
    assert.equal(cells[0]!.outputs?.at(-1)?.ename, 'KernelRestarted');
  });
});
