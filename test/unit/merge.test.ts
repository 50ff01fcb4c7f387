import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeCell } from '../../src/notebook/document.js';
import { applyMerge, mergeNotebook, type MergeEvent } from '../../src/notebook/merge.js';
import { mergeNotes } from '../../src/notebook/mergeNotes.js';
import type { Cell, CodeCell, NotebookContent } from '../../src/notebook/types.js';

const code = (id: string, source: string, extra: Partial<CodeCell> = {}): CodeCell => ({
  cell_type: 'code',
  id,
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
  ...extra,
});
const md = (id: string, source: string): Cell => ({ cell_type: 'markdown', id, metadata: {}, source });
const stdout = (text: string) => ({ output_type: 'stream', name: 'stdout', text }) as CodeCell['outputs'][number];
const running = { jlab_mcp: { status: 'running', started: '2026-01-01T00:00:00.000Z' } };

/** A base (what jlab-mcp wrote), our copy and their copy of it, each free to change. */
function fork(cells: Cell[], metadata: Record<string, unknown> = {}) {
  const base = { cells: cells.map((cell) => ({ id: cell.id, text: serializeCell(cell) })), metadata: structuredClone(metadata) };
  const ours = structuredClone(cells);
  const oursMetadata = structuredClone(metadata);
  const theirs: NotebookContent = { nbformat: 4, nbformat_minor: 5, metadata: structuredClone(metadata), cells: structuredClone(cells) };
  let fresh = 0;
  const merge = () => {
    const result = mergeNotebook({
      base,
      ours,
      oursMetadata,
      theirs,
      textOf: serializeCell,
      isRunning: (cell) => (cell.metadata.jlab_mcp as { status?: string } | undefined)?.status === 'running',
      freshId: (taken) => {
        let id: string;
        do id = `fresh${fresh++}`;
        while (taken.has(id));
        return id;
      },
    });
    applyMerge(ours, oursMetadata, result);
    return result;
  };
  const byId = (cells: Cell[], id: string) => cells.find((cell) => cell.id === id)!;
  return { base, ours, oursMetadata, theirs, merge, byId };
}

const ids = (cells: readonly Cell[]) => cells.map((cell) => cell.id);
const kinds = (events: MergeEvent[]) => events.map((event) => event.kind).sort();

/** What nbformat.write does to a cell it did not change: keys sorted, multi-line strings as line lists. */
function asNbformatWrites(cell: Cell): Cell {
  const lines = (text: string) => text.split(/(?<=\n)/).filter((line) => line !== '');
  const copy: Record<string, unknown> = { ...cell, source: cell.source };
  if (cell.cell_type === 'code') copy.outputs = cell.outputs.map((output) => ('text' in output ? { ...output, text: lines(String(output.text)) } : output));
  return Object.fromEntries(
    Object.keys(copy)
      .sort()
      .map((key) => [key, copy[key]]),
  ) as unknown as Cell;
}

describe('mergeNotebook (three-way, by cell id)', () => {
  it('nothing changed on either side: our objects, no events, nothing of ours to write', () => {
    const nb = fork([code('a', 'x = 1'), md('b', '# B')]);
    const before = [...nb.ours];
    const result = nb.merge();
    assert.deepEqual(result.events, []);
    assert.equal(result.oursContributed, false);
    assert.ok(
      nb.ours.every((cell, i) => cell === before[i]),
      'the same objects, in place',
    );
  });

  it('a file rewritten by nbformat without changes (keys sorted, text as line lists, trusted) is no change', () => {
    const nb = fork([code('a', 'print(1)\nprint(2)', { outputs: [stdout('1\n2\n')], execution_count: 1 })]);
    nb.theirs.cells = nb.theirs.cells.map(asNbformatWrites);
    nb.theirs.cells[0]!.metadata.trusted = true;
    const result = nb.merge();
    assert.deepEqual(result.events, []);
  });

  it('their added cells stay where they put them; ours stay after the same neighbour', () => {
    const nb = fork([code('a', '1'), code('b', '2'), code('c', '3')]);
    nb.theirs.cells.splice(1, 0, md('t1', 'their note'));
    nb.theirs.cells.push(code('t2', 'their last'));
    nb.ours.splice(2, 0, code('o1', 'ours after b'));
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 't1', 'b', 'o1', 'c', 't2']);
    assert.deepEqual(kinds(result.events), ['added', 'added']);
    assert.equal(result.oursContributed, true);
  });

  it('their deletion of a cell we did not change drops it', () => {
    const nb = fork([code('a', '1'), code('b', '2'), code('c', '3')]);
    nb.theirs.cells.splice(1, 1);
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'c']);
    assert.deepEqual(result.events, [{ kind: 'deleted', id: 'b' }]);
    assert.equal(result.oursContributed, false);
  });

  it('their deletion of a cell we changed since keeps ours, and says so', () => {
    const nb = fork([code('a', '1'), code('b', '2'), code('c', '3')]);
    nb.theirs.cells.splice(1, 1);
    (nb.ours[1] as CodeCell).outputs = [stdout('2\n')];
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'b', 'c']);
    assert.deepEqual(result.events, [{ kind: 'kept_deleted', id: 'b', running: false }]);
  });

  it('their deletion of the cell we are running keeps it, even unchanged since the last save', () => {
    const nb = fork([code('a', '1'), code('b', 'long()', { metadata: { ...running } })]);
    const held = nb.ours[1];
    nb.theirs.cells.splice(1, 1);
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'b']);
    assert.equal(nb.ours[1], held, 'the run still holds the cell that is in the notebook');
    assert.deepEqual(result.events, [{ kind: 'kept_deleted', id: 'b', running: true }]);
  });

  it('their order wins; a cell we added follows its neighbour to the new place', () => {
    const nb = fork([code('a', '1'), code('b', '2'), code('c', '3')]);
    nb.theirs.cells.reverse();
    nb.ours.splice(1, 0, code('o1', 'after a'));
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['c', 'b', 'a', 'o1']);
    assert.ok(result.events.some((event) => event.kind === 'moved'));
  });

  it('their edit of a cell we did not change is taken into our object (a run holding it keeps writing there)', () => {
    const nb = fork([code('a', 'x = 1', { outputs: [stdout('old\n')], execution_count: 1 })]);
    const held = nb.ours[0];
    Object.assign(nb.theirs.cells[0]!, { source: 'x = 2  # theirs', outputs: [], execution_count: null });
    nb.theirs.cells[0]!.metadata.tags = ['keep'];
    const result = nb.merge();
    assert.equal(nb.ours[0], held);
    assert.equal(held!.source, 'x = 2  # theirs');
    assert.deepEqual((held as CodeCell).outputs, []);
    assert.deepEqual(held!.metadata.tags, ['keep']);
    assert.deepEqual(result.events, [{ kind: 'edited', id: 'a' }]);
    assert.equal(result.updates.get(held!)?.source, 'x = 2  # theirs');
  });

  it('their source edit and our run of the same cell: their source, our outputs and run metadata', () => {
    const nb = fork([code('a', 'x = 1')]);
    const ours = nb.ours[0] as CodeCell;
    ours.outputs = [stdout('ran\n')];
    ours.execution_count = 7;
    ours.metadata.execution = { 'shell.execute_reply': 'now' };
    Object.assign(nb.theirs.cells[0]!, { source: 'x = 1  # explained' });
    nb.theirs.cells[0]!.metadata.tags = ['important'];
    const result = nb.merge();
    assert.equal(nb.ours[0], ours);
    assert.equal(ours.source, 'x = 1  # explained');
    assert.deepEqual(ours.outputs, [stdout('ran\n')]);
    assert.equal(ours.execution_count, 7);
    assert.deepEqual(ours.metadata, { execution: { 'shell.execute_reply': 'now' }, tags: ['important'] });
    assert.deepEqual(result.events, [{ kind: 'edited', id: 'a' }]);
    assert.equal(result.oursContributed, true);
  });

  it('both edited the source: theirs keeps the id, ours (the same object, its outputs) follows with a fresh id', () => {
    const nb = fork([code('a', 'x = 1'), code('b', 'y = 1')]);
    const ours = nb.ours[0] as CodeCell;
    Object.assign(ours, { source: 'x = 3  # agent', outputs: [stdout('agent ran\n')], execution_count: 2 });
    Object.assign(nb.theirs.cells[0]!, { source: 'x = 2  # person' });
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'fresh0', 'b']);
    assert.equal(nb.ours[0]!.source, 'x = 2  # person');
    assert.notEqual(nb.ours[0], ours);
    assert.equal(nb.ours[1], ours, 'our object lives on under the new id');
    assert.equal(ours.source, 'x = 3  # agent');
    assert.deepEqual(ours.outputs, [stdout('agent ran\n')]);
    assert.deepEqual(result.events, [{ kind: 'conflict', id: 'a', oursId: 'fresh0' }]);
    const notes = mergeNotes('/nb/x.ipynb', result.events, nb.ours);
    assert.match(notes.join('\n'), /Conflict in cell 0 \(id a\)[\s\S]*yours, with its outputs, follows it as cell 1 \(id fresh0\)/);
  });

  it('both edited the source of the cell we are running: ours keeps its id (the registry follows it), theirs goes before it with a fresh one', () => {
    const nb = fork([code('a', 'x = 1'), code('b', 'long()')]);
    const ours = nb.ours[1] as CodeCell;
    Object.assign(ours, { source: 'long(2)  # agent', outputs: [stdout('tick\n')], metadata: { ...running } });
    nb.theirs.cells[1]!.source = 'long(3)  # person';
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'fresh0', 'b']);
    assert.equal(nb.ours[2], ours, 'the run still holds the cell, under its id');
    assert.equal(ours.source, 'long(2)  # agent');
    assert.equal(nb.ours[1]!.source, 'long(3)  # person');
    assert.deepEqual(result.events, [{ kind: 'conflict', id: 'fresh0', oursId: 'b', running: true }]);
    assert.match(
      mergeNotes('/nb/x.ipynb', result.events, nb.ours).join('\n'),
      /Conflict in cell 2 \(id b\): it was changed on disk while it runs\. Yours keeps its id and outputs as cell 2 \(id b\); their version is just before it as cell 1 \(id fresh0\)/,
    );
  });

  it('a stale copy merged against the state it came from keeps the newer cells and outputs; against the last write it would drop them', () => {
    const old = [code('a', 'x = 1'), code('b', 'y = 2')];
    const stale = structuredClone(old);
    stale[1]!.source = 'y = 20  # person';
    const later = () => [
      code('a', 'x = 1', { outputs: [stdout('1\n')], execution_count: 1 }),
      code('b', 'y = 2'),
      code('c', 'z = 3', { outputs: [stdout('3\n')], execution_count: 2 }),
    ];
    const merge = (base: Cell[], ours: Cell[]) => {
      const result = mergeNotebook({
        base: { cells: base.map((cell) => ({ id: cell.id, text: serializeCell(cell) })), metadata: {} },
        ours,
        oursMetadata: {},
        theirs: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: structuredClone(stale) },
        textOf: serializeCell,
        isRunning: () => false,
        freshId: () => 'fresh',
      });
      applyMerge(ours, {}, result);
      return result;
    };
    const ours = later();
    const right = merge(old, ours);
    assert.deepEqual(
      ours.map((cell) => cell.source),
      ['x = 1', 'y = 20  # person', 'z = 3'],
    );
    assert.deepEqual((ours[0] as CodeCell).outputs, [stdout('1\n')], 'the output the stale copy lacks');
    assert.deepEqual((ours[2] as CodeCell).outputs, [stdout('3\n')]);
    assert.deepEqual(kinds(right.events), ['edited']);
    const wrong = later();
    merge(later(), wrong);
    assert.deepEqual(
      wrong.map((cell) => cell.id),
      ['a', 'b'],
      'the bug this avoids: c read as deleted by them',
    );
  });

  it('their file as a base for their next save: unchanged cells share the base text, changed ones are theirs serialized', () => {
    const nb = fork([code('a', '1'), code('b', '2')]);
    nb.theirs.cells[1]!.source = '2  # person';
    nb.theirs.cells.push(md('t', 'theirs'));
    const result = nb.merge();
    assert.deepEqual(
      result.theirCells.map((cell) => cell.id),
      ['a', 'b', 't'],
    );
    assert.equal(result.theirCells[0]!.text, nb.base.cells[0]!.text);
    assert.equal(result.theirCells[1]!.text, serializeCell(nb.theirs.cells[1]!));
    assert.equal(serializeCell(nb.ours[1]!), result.theirCells[1]!.text, 'our cell that took their edit serializes as theirs: unchanged at the next merge');
  });

  it('they turned a cell we are running into markdown: a conflict, never a markdown cell with outputs', () => {
    const nb = fork([code('a', 'long()', { metadata: { ...running } })]);
    // JupyterLab's change of type keeps the cell's metadata: the running mark the file had too.
    nb.theirs.cells[0] = { ...md('a', 'long()'), metadata: { ...running, tags: ['t'] } };
    const result = nb.merge();
    assert.deepEqual(
      nb.ours.map((cell) => cell.cell_type),
      ['markdown', 'code'],
    );
    assert.equal(result.events[0]?.kind, 'conflict');
    assert.deepEqual(nb.ours[0]!.metadata, { tags: ['t'] }, 'their copy does not look running');
    assert.deepEqual(nb.ours[1]!.metadata, running, 'ours still runs');
  });

  it('a conflict on the cell we are running keeps the cells we added after it (their copy goes before it)', () => {
    const nb = fork([code('a', '1'), code('b', 'long()', { metadata: { ...running } }), code('d', '4')]);
    nb.ours.splice(2, 0, code('c', 'agent'));
    nb.theirs.cells[1] = md('b', 'long()');
    nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'fresh0', 'b', 'c', 'd']);
  });

  it('a cell we deleted that they edited comes back; one they left alone stays deleted', () => {
    const nb = fork([code('a', '1'), code('b', '2'), code('c', '3')]);
    nb.ours.splice(1, 2);
    nb.theirs.cells[1]!.source = '2  # person';
    const result = nb.merge();
    assert.deepEqual(ids(nb.ours), ['a', 'b']);
    assert.deepEqual(result.events, [{ kind: 'restored', id: 'b' }]);
    assert.equal(result.oursContributed, true, 'c is still in their file');
  });

  it('notebook metadata merges key by key', () => {
    const nb = fork([code('a', '1')], { kernelspec: { name: 'python3', display_name: 'Python 3' }, jlab_mcp: { environments: [] } });
    nb.oursMetadata.jlab_mcp = { environments: ['env1'] };
    nb.theirs.metadata.title = 'My analysis';
    nb.merge();
    assert.deepEqual(nb.oursMetadata, {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      jlab_mcp: { environments: ['env1'] },
      title: 'My analysis',
    });
  });

  it('every case at once: the array is the same object, ids unique', () => {
    const nb = fork([code('a', '1'), code('b', '2'), code('c', '3'), code('d', '4')]);
    const array = nb.ours;
    nb.theirs.cells.splice(3, 1); // delete d
    nb.theirs.cells.unshift(md('t', 'intro')); // add
    nb.theirs.cells[1]!.source = '1  # person'; // edit a
    [nb.theirs.cells[2], nb.theirs.cells[3]] = [nb.theirs.cells[3]!, nb.theirs.cells[2]!]; // move c before b
    nb.ours[2]!.source = '3  # agent'; // c: ours only
    nb.ours.push(code('o', 'new'));
    const result = nb.merge();
    assert.equal(nb.ours, array);
    assert.deepEqual(ids(nb.ours), ['t', 'a', 'c', 'b', 'o'], 'o was appended: it stays at the end');
    assert.equal(nb.byId(nb.ours, 'a').source, '1  # person');
    assert.equal(nb.byId(nb.ours, 'c').source, '3  # agent');
    assert.deepEqual(kinds(result.events), ['added', 'deleted', 'edited', 'moved']);
    assert.equal(new Set(ids(nb.ours)).size, nb.ours.length);
  });
});
