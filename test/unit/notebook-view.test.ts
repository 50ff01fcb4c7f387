import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewCells } from '../../src/notebook/notebookView.js';
import type { Cell } from '../../src/notebook/types.js';

const cells: Cell[] = [
  { cell_type: 'markdown', id: 'm', metadata: {}, source: '# Title' },
  {
    cell_type: 'code',
    id: 'c',
    metadata: { jlab_mcp: { status: 'running' } },
    source: 'x'.repeat(3000),
    execution_count: 3,
    outputs: [
      { output_type: 'stream', name: 'stdout', text: ['\x1b[31mred\x1b[0m line\n', 'two\n'] },
      { output_type: 'execute_result', execution_count: 3, metadata: {}, data: { 'text/plain': '42', 'text/html': '<b>42</b>' } },
      { output_type: 'display_data', metadata: {}, data: { 'image/png': 'iVBOR' } },
      { output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: [] },
    ],
  },
  { cell_type: 'raw', id: 'r', metadata: {}, source: 'raw' },
];

describe('viewCells (read_notebook)', () => {
  it('shows ids, types, a cut source, the running mark and one line per output', () => {
    const view = viewCells(cells, 0, 50, 20_000);
    assert.equal(view.cell_count, 3);
    assert.equal(view.next_start, null);
    const code = view.cells[1]!;
    assert.equal(code.id, 'c');
    assert.equal(code.running, true);
    assert.equal(code.source_chars, 3000);
    assert.equal(code.source_truncated, true);
    assert.ok(code.source.length < 2100);
    assert.deepEqual(code.outputs, ['stdout: red line (2 lines)', 'result text/plain, text/html: 42', 'display image/png', 'error: ValueError: bad']);
    assert.equal(view.cells[0]!.execution_count, null);
  });

  it('pages: negative start counts from the end; limit and budget stop early and say where to go on', () => {
    assert.deepEqual(
      viewCells(cells, -1, 50, 20_000).cells.map((cell) => cell.id),
      ['r'],
    );
    const limited = viewCells(cells, 0, 2, 20_000);
    assert.deepEqual([limited.cells.length, limited.next_start], [2, 2]);
    const tight = viewCells(cells, 0, 50, 10);
    assert.deepEqual([tight.cells.length, tight.next_start], [1, 1], 'at least one cell, whatever the budget');
    assert.deepEqual(viewCells(cells, 10, 5, 1000).cells, []);
  });
});
