// move_cell and clear_outputs in the session core, on a scripted fake kernel and the real notebook
// document: destinations, never waiting for a running cell, a running cell's outputs following
// its move, a person's edit to the file between calls kept (and the move not undone by the
// merge), a running cell's outputs refused by clear, all: true leaving it alone.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { serializeCell } from '../../src/notebook/document.js';
import { applyMerge, mergeNotebook } from '../../src/notebook/merge.js';
import { resolveMoveTarget } from '../../src/notebook/moveTarget.js';
import type { Cell, CodeCell } from '../../src/notebook/types.js';
import type { JlabError } from '../../src/util/errors.js';
import { within } from '../../src/util/deadline.js';
import { gate } from '../helpers/fakeKernel.js';
import { notebookWithCode, sessionOnFakeKernel } from '../helpers/sessionFixture.js';

const cells = (...ids: string[]) => ids.map((id) => ({ id }) as Cell);
const sources = (list: ReadonlyArray<{ source: string | string[] }>) => list.map((cell) => [cell.source].flat().join(''));

describe('resolveMoveTarget', () => {
  const notebook = cells('a', 'b', 'c', 'd');
  it('to_index is the index after the move; negative counts from the end', () => {
    assert.equal(resolveMoveTarget(notebook, 0, { toIndex: 2 }), 2);
    assert.equal(resolveMoveTarget(notebook, 0, { toIndex: -1 }), 3);
    assert.throws(
      () => resolveMoveTarget(notebook, 0, { toIndex: 4 }),
      (error: JlabError) => error.code === 'CELL_INDEX_OUT_OF_RANGE',
    );
    assert.throws(
      () => resolveMoveTarget(notebook, 0, { toIndex: -5 }),
      (error: JlabError) => error.code === 'CELL_INDEX_OUT_OF_RANGE',
    );
  });
  it('before / after an id counts the places once the cell has left its own', () => {
    assert.equal(resolveMoveTarget(notebook, 0, { beforeId: 'd' }), 2, 'a before d: b c a d');
    assert.equal(resolveMoveTarget(notebook, 0, { afterId: 'd' }), 3, 'a after d: b c d a');
    assert.equal(resolveMoveTarget(notebook, 3, { beforeId: 'a' }), 0, 'd before a: d a b c');
    assert.equal(resolveMoveTarget(notebook, 3, { afterId: 'a' }), 1, 'd after a: a d b c');
    assert.equal(resolveMoveTarget(notebook, 1, { afterId: 'b' }), 1, 'next to itself: where it is');
    assert.throws(
      () => resolveMoveTarget(notebook, 0, { afterId: 'zz' }),
      (error: JlabError) => error.code === 'CELL_NOT_FOUND',
    );
  });
});

describe('session.moveCell', () => {
  it('moves a cell by id, keeps its id, and saves the new order', async (t) => {
    const { session, notebook, readBack } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'b', 'c') });
    const [a, , c] = notebook.cells.map((cell) => cell.id);
    const moved = await session.moveCell({ id: a! }, { afterId: c! });
    assert.deepEqual([moved.from, moved.index, moved.cell.id], [0, 2, a]);
    const onDisk = await readBack();
    assert.deepEqual(sources(onDisk.cells), ['b', 'c', 'a']);
    assert.equal(onDisk.cells[2]!.id, a);
  });

  it('does not wait for a running cell, and the running cell’s outputs land in it after its move', async (t) => {
    const { session, kernel, notebook, readBack } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('x = 1', 'y = 2') });
    const slow = gate((run) => run.stream('after the move\n'));
    kernel.on('train()', slow.script);
    const ticket = session.executeCode('train()');
    const run = await slow.started;
    run.stream('before the move\n');
    const trainId = ticket.run!.cell.id;
    const moved = await within(session.moveCell({ id: trainId }, { toIndex: 0 }), 1000);
    assert.ok(moved, 'returned while the cell still runs');
    assert.equal(ticket.run!.finished, false);
    slow.release();
    const outcome = await session.settle(ticket);
    assert.equal(outcome?.cellIndex, 0, 'the outcome names its new place');
    const onDisk = (await readBack()).cells as CodeCell[];
    assert.deepEqual(sources(onDisk), ['train()', 'x = 1', 'y = 2']);
    assert.equal(onDisk[0]!.id, trainId);
    assert.deepEqual(
      onDisk[0]!.outputs.map((output) => output.text),
      ['before the move\nafter the move\n'],
    );
    assert.deepEqual(onDisk[1]!.outputs, [], 'no output landed in the cell now at its old place');
    assert.equal(notebook.cells[0]!.id, trainId);
  });

  it('keeps a person’s edit made to the file between calls, and the move is not undone by the merge', async (t) => {
    const { session, notebook, readBack } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'b', 'c') });
    const [a, b] = notebook.cells.map((cell) => cell.id);
    const file = JSON.parse(await readFile(notebook.path, 'utf8'));
    file.cells[1].source = ['b edited by a person'];
    await writeFile(notebook.path, JSON.stringify(file, null, 1));
    await session.moveCell({ id: a! }, { toIndex: -1 });
    const onDisk = await readBack();
    assert.deepEqual(sources(onDisk.cells), ['b edited by a person', 'c', 'a']);
    assert.equal(onDisk.cells[0]!.id, b);
  });
});

describe('merge of a move', () => {
  const code = (id: string, source: string): Cell => ({ cell_type: 'code', id, metadata: {}, source, outputs: [], execution_count: null }) as Cell;
  function merge(base: Cell[], ours: Cell[], theirs: Cell[]) {
    const result = mergeNotebook({
      base: { cells: base.map((cell) => ({ id: cell.id, text: serializeCell(cell) })), metadata: {} },
      ours,
      oursMetadata: {},
      theirs: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: theirs },
      textOf: serializeCell,
      isRunning: () => false,
      freshId: () => 'fresh',
    });
    applyMerge(ours, {}, result);
    return result;
  }
  const base = () => [code('a', '1'), code('b', '2'), code('c', '3')];

  it('our move wins over their file in the old order; their edit and their new cell are kept', () => {
    const ours = base();
    ours.push(ours.shift()!); // we moved a to the end: b c a
    const theirs = base();
    theirs[1]!.source = '2  # theirs';
    theirs.splice(2, 0, code('t', 'added after b'));
    const result = merge(base(), ours, theirs);
    assert.deepEqual(
      ours.map((cell) => cell.id),
      ['b', 't', 'c', 'a'],
    );
    assert.equal(ours[0]!.source, '2  # theirs');
    assert.equal(result.oursContributed, true, 'the file lacks our order: it is written');
  });

  it('when both reordered, theirs wins (as before)', () => {
    const ours = base();
    ours.push(ours.shift()!);
    const theirs = base().reverse();
    merge(base(), ours, theirs);
    assert.deepEqual(
      ours.map((cell) => cell.id),
      ['c', 'b', 'a'],
    );
  });

  it('a stale copy a person saves after the move does not undo it', async (t) => {
    const { session, notebook, readBack } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'b', 'c') });
    const stale = JSON.parse(await readFile(notebook.path, 'utf8'));
    const [a] = notebook.cells.map((cell) => cell.id);
    await session.moveCell({ id: a! }, { toIndex: -1 });
    stale.cells[1].source = ['b edited in a copy opened before the move'];
    await writeFile(notebook.path, JSON.stringify(stale, null, 1));
    await session.addMarkdown('# next save');
    assert.deepEqual(sources((await readBack()).cells), ['b edited in a copy opened before the move', 'c', 'a', '# next save']);
  });
});

describe('session.clearOutputs', () => {
  it('clears one cell, all cells, and refuses the running cell by name', async (t) => {
    const { session, kernel, notebook, readBack } = await sessionOnFakeKernel(t);
    kernel.defaultScript = (run) => run.stream(`${run.code}\n`);
    await session.settle(session.executeCode('one'));
    await session.settle(session.executeCode('two'));
    const slow = gate((run) => run.stream('late\n'));
    kernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    const slowRun = await slow.started;
    slowRun.stream('early\n');
    await new Promise((resolve) => setTimeout(resolve, 5)); // the stream reaches the cell
    const [one, two, slowCell] = notebook.cells as CodeCell[];

    const single = await session.clearOutputs({ id: one!.id });
    assert.deepEqual(
      single.cleared.map((cell) => cell.id),
      [one!.id],
    );
    assert.deepEqual([one!.outputs, one!.execution_count], [[], null]);
    assert.equal(two!.outputs.length, 1, 'only the named cell');

    await assert.rejects(
      session.clearOutputs({ id: slowCell!.id }),
      (error: JlabError) => error.code === 'KERNEL_UNAVAILABLE' && /wait_for_cell/.test(error.hint ?? '') && /interrupt_kernel/.test(error.hint ?? ''),
    );
    const all = await session.clearOutputs('all');
    assert.deepEqual(
      all.cleared.map((cell) => cell.id),
      [two!.id],
      'cells already empty are left out, the running one is skipped',
    );
    assert.equal(all.skipped, slowCell);
    slow.release();
    await session.settle(running);
    const onDisk = (await readBack()).cells as CodeCell[];
    assert.deepEqual(
      onDisk.map((cell) => [cell.outputs.length, cell.execution_count]),
      [
        [0, null],
        [0, null],
        [1, 3],
      ],
    );
  });

  it('refuses a markdown cell', async (t) => {
    const { session } = await sessionOnFakeKernel(t);
    const { cell } = await session.addMarkdown('# title');
    await assert.rejects(session.clearOutputs({ id: cell.id }), (error: JlabError) => error.code === 'NOT_A_CODE_CELL');
  });
});
