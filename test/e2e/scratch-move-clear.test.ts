// Scratch runs, move_cell and clear_outputs through the built binary, the official client and a
// real Jupyter kernel: a scratch run leaves the notebook byte-identical and In [n] where it was,
// queues behind a running cell, stops on interrupt_kernel and on a cancelled request; a move and
// a clear during a running cell return at once, the running cell's outputs land in it after its
// move, and a person's edit to the file between calls survives.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { call, errorOf, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { notebookSettled, readCells, type FileCell } from '../helpers/notebookFile.js';

const sourceOf = (cell: FileCell) => [cell.source].flat().join('');
const outputText = (cell: FileCell) => (cell.outputs ?? []).map((output) => [output.text ?? ''].flat().join('')).join('');
/** A loop that ends only when interrupted (KeyboardInterrupt between the sleeps). */
const LONG_LOOP = 'import time\nfor _ in range(6000):\n    time.sleep(0.01)';

describe('scratch runs, move_cell and clear_outputs (e2e)', () => {
  let server: Spawned;
  let sid = '';
  let notebook = '';

  before(async () => {
    server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'warn', JLAB_MCP_SAVE_INTERVAL: '0.5' });
    const started = await call(server.client, 'start_new_session', { experiment_name: 'scratchpad' });
    sid = String(started.structuredContent?.session_id);
    notebook = String(started.structuredContent?.notebook_path);
  });
  after(async () => {
    await server?.close();
  });

  const tool = (name: string, args: Record<string, unknown> = {}) => call(server.client, name, { session_id: sid, ...args });
  const execute = (code: string, extra: Record<string, unknown> = {}) => tool('execute_code', { code, ...extra });
  const data = (result: ToolResult) => result.structuredContent as Record<string, any>;

  it('a scratch run records nothing: the file byte-identical, In [n] unchanged, a note when it assigns', async () => {
    assert.equal(data(await execute('a = 21\na')).execution_count, 1);
    await notebookSettled(notebook);
    const bytes = await readFile(notebook);
    const look = await execute('a * 2', { scratch: true });
    assert.equal(look.isError, undefined);
    assert.match(textOf(look), /42/);
    assert.match(textOf(look), /Scratch run: not recorded/);
    assert.equal(data(look).scratch, true);
    assert.deepEqual(data(look).cell, { id: null, index: null });
    const assigning = await execute('b = a + 1', { scratch: true });
    assert.match(textOf(assigning), /assigns names, so the kernel's state changed; a resume from the notebook would not reproduce it/);
    await new Promise((resolve) => setTimeout(resolve, 800)); // past the save interval: a save would have happened
    assert.deepEqual(await readFile(notebook), bytes, 'the notebook file is byte-identical');
    const next = await execute('b');
    assert.equal(data(next).execution_count, 2, 'In [n] did not move');
    assert.match(textOf(next), /22/, 'the kernel state the scratch run set is there');
    const positioned = await execute('1', { scratch: true, cell_index: 0 });
    assert.equal(errorOf(positioned)?.code, 'INVALID_ARGUMENT');
  });

  it('queues behind a running cell, and interrupt_kernel and a cancelled request stop it', async () => {
    const slow = await execute('import time\ntime.sleep(2)\nprint("slow done")', { timeout: 0 });
    assert.equal(data(slow).status, 'running');
    const queued = await execute('print("peek")', { scratch: true, timeout: 0 });
    assert.equal(data(queued).status, 'queued');
    const waited = await tool('wait_for_cell', { timeout: 30 });
    assert.match(textOf(waited), /slow done/);
    const peek = await tool('wait_for_cell', { timeout: 30 });
    assert.match(textOf(peek), /peek/);
    assert.match(textOf(peek), /scratch run/);

    await notebookSettled(notebook);
    const bytes = await readFile(notebook);
    const looping = await execute(LONG_LOOP, { scratch: true, timeout: 0.5 });
    assert.equal(data(looping).status, 'running');
    assert.match(textOf(looping), /scratch run is still running/);
    const interrupted = await tool('interrupt_kernel');
    assert.equal(data(interrupted).state, 'stopped');
    assert.equal(data(interrupted).interrupted, null, 'a scratch run is no cell');
    assert.match(data(interrupted).message, /scratch run stopped .*not recorded/);
    const ended = await tool('wait_for_cell', { timeout: 10 });
    assert.match(textOf(ended), /KeyboardInterrupt/);

    const abort = new AbortController();
    const cancelled = server.client.callTool(
      { name: 'execute_code', arguments: { session_id: sid, code: LONG_LOOP, scratch: true } },
      { signal: abort.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    abort.abort();
    await assert.rejects(cancelled);
    const alive = await execute('print("alive")', { scratch: true, timeout: 10 });
    assert.equal(data(alive).status, 'ok', 'the cancel interrupted the loop: the kernel is free');
    assert.deepEqual(await readFile(notebook), bytes, 'nothing of the interrupted or cancelled runs is in the file');
  });

  it('move and clear during a running cell return at once; its outputs follow the move; a person’s edit survives', async () => {
    const before = await readCells(notebook);
    const first = before[0]!.id!;
    const running = await execute('import time\nprint("start", flush=True)\ntime.sleep(3)\nprint("end")', { timeout: 0.5 });
    assert.equal(data(running).status, 'running');
    const runningId = String(data(running).cell.id);

    // A person edits the first cell in the file between the agent's calls.
    await notebookSettled(notebook);
    const file = JSON.parse(await readFile(notebook, 'utf8'));
    file.cells[0].source = ['a = 21  # edited by a person\n', 'a'];
    await writeFile(notebook, JSON.stringify(file, null, 1));

    let startedAt = Date.now();
    const moved = await tool('move_cell', { cell_id: runningId, to_index: 0 });
    assert.ok(Date.now() - startedAt < 1500, 'move_cell does not wait for the running cell');
    assert.equal(moved.isError, undefined, textOf(moved));
    assert.deepEqual(data(moved).cell, { id: runningId, index: 0 });

    startedAt = Date.now();
    const refused = await tool('clear_outputs', { cell_id: runningId });
    assert.equal(errorOf(refused)?.code, 'KERNEL_UNAVAILABLE');
    assert.match(textOf(refused), /wait_for_cell/);
    const cleared = await tool('clear_outputs', { cell_id: first });
    assert.ok(Date.now() - startedAt < 1500, 'clear_outputs does not wait for the running cell');
    assert.deepEqual(
      data(cleared).cleared.map((cell: { id: string }) => cell.id),
      [first],
    );
    const all = await tool('clear_outputs', { all: true });
    assert.deepEqual(data(all).skipped_running, { id: runningId, index: 0 }, 'all: true leaves the running cell alone');
    for (const [name, args] of [
      ['move_cell', { cell_id: first }],
      ['move_cell', { cell_id: first, to_index: 0, after_cell_id: runningId }],
      ['clear_outputs', {}],
      ['clear_outputs', { all: true, cell_index: 0 }],
    ] as const) {
      const refusedCall = await tool(name, args);
      assert.equal(errorOf(refusedCall)?.code, 'INVALID_ARGUMENT', `${name} ${JSON.stringify(args)}`);
      assert.match(textOf(refusedCall), /Next step: (Give|Pass) /);
    }

    const done = await tool('wait_for_cell', { timeout: 30 });
    assert.match(textOf(done), /end/);
    const cells = await readCells(notebook);
    assert.equal(cells[0]!.id, runningId, 'the moved cell kept its id and place');
    assert.equal(outputText(cells[0]!), 'start\nend\n', "the running cell's outputs landed in it after its move");
    const edited = cells.find((cell) => cell.id === first)!;
    assert.equal(sourceOf(edited), 'a = 21  # edited by a person\na', "the person's edit survived");
    assert.deepEqual([edited.outputs, edited.execution_count], [[], null], 'and the clear too');
    assert.equal(cells.filter((cell) => cell.id === runningId).length, 1);
  });
});
