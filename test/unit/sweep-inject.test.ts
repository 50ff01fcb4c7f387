import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NotebookContent } from '../../src/notebook/types.js';
import { INJECTED_TAG, injectParameters } from '../../src/sweeps/injectParameters.js';

// A notebook laid out as papermill's documentation shows: defaults in a cell tagged `parameters`.
const papermillNotebook = (): NotebookContent => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    { cell_type: 'markdown', id: 'intro', metadata: {}, source: '# Training' },
    { cell_type: 'code', id: 'defaults', metadata: { tags: ['parameters'] }, source: 'lr = 0.1\nseed = 0', outputs: [], execution_count: null },
    {
      cell_type: 'code',
      id: 'train',
      metadata: {},
      source: 'print(lr)',
      outputs: [{ output_type: 'stream', name: 'stdout', text: 'old\n' }],
      execution_count: 3,
    },
  ],
});

test('one injected-parameters cell right after the parameters cell; outputs cleared', () => {
  const { content, afterParametersCell } = injectParameters(papermillNotebook(), { lr: 0.01, seed: 2 }, 'python');
  assert.equal(afterParametersCell, true);
  assert.deepEqual(
    content.cells.map((cell) => cell.id),
    ['intro', 'defaults', content.cells[2]?.id, 'train'],
  );
  const injected = content.cells[2];
  assert.equal(injected?.cell_type, 'code');
  assert.deepEqual(injected?.metadata, { tags: [INJECTED_TAG] });
  assert.equal(injected?.source, '# Parameters\nlr = 0.01\nseed = 2\n');
  const train = content.cells[3];
  assert.ok(train?.cell_type === 'code' && train.outputs.length === 0 && train.execution_count === null);
});

test('a papermill output used as input keeps exactly one injected cell', () => {
  const once = injectParameters(papermillNotebook(), { lr: 0.5 }, 'python').content;
  const twice = injectParameters(once, { lr: 0.7 }, 'python').content;
  const injected = twice.cells.filter((cell) => JSON.stringify(cell.metadata).includes(INJECTED_TAG));
  assert.equal(injected.length, 1);
  assert.equal(injected[0]?.source, '# Parameters\nlr = 0.7\n');
});

test('without a parameters cell the assignments go on top, and the result says so', () => {
  const notebook = papermillNotebook();
  notebook.cells[1] = { ...notebook.cells[1], metadata: {} } as NotebookContent['cells'][number];
  const { content, afterParametersCell } = injectParameters(notebook, { lr: 1 }, 'r');
  assert.equal(afterParametersCell, false);
  assert.equal(content.cells[0]?.source, '# Parameters\nlr = 1\n');
  assert.equal(content.cells.length, 4);
});
