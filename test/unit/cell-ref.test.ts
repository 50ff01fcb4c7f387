import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageOf } from '../../src/mcp/cellOutput.js';
import { cellRefOf, insertRefOf } from '../../src/mcp/tools/cellArgs.js';
import { NotebookDocument } from '../../src/notebook/document.js';
import { JlabError } from '../../src/util/errors.js';

const code = (e: unknown) => (e instanceof JlabError ? e.code : String(e));

describe('cell references', () => {
  const doc = NotebookDocument.create('/tmp/never-written.ipynb');
  const [a, b, c] = ['a', 'b', 'c'].map((source) => doc.newCodeCell(source));
  for (const cell of [a!, b!, c!]) doc.insert(cell, doc.cells.length);

  it('resolves an id to the position the cell has now, an index as before', () => {
    assert.equal(doc.resolveCell({ id: b!.id }), 1);
    assert.equal(doc.resolveCell({ index: -1 }), 2);
    assert.equal(doc.codeCellAt({ id: c!.id }), c);
    assert.equal(doc.resolveInsert({ afterId: c!.id }), 3);
    assert.equal(doc.resolveInsert({ beforeId: a!.id }), 0);
    assert.equal(doc.resolveInsert({}), 3);
  });

  it('answers an unknown id with CELL_NOT_FOUND listing ids alike first', () => {
    const typo = `${b!.id.slice(0, 5)}zzz`;
    assert.throws(
      () => doc.resolveCell({ id: typo }),
      (e: unknown) => code(e) === 'CELL_NOT_FOUND' && new RegExp(`^.*Similar ids: ${b!.id} \\(cell 1, code\\)`).test((e as JlabError).hint ?? ''),
    );
    assert.throws(
      () => NotebookDocument.create('/tmp/x.ipynb').resolveCell({ id: 'abc' }),
      (e: unknown) => /notebook is empty/.test((e as JlabError).hint ?? ''),
    );
  });

  it('takes exactly one of cell_index and cell_id, and at most one insert position', () => {
    assert.deepEqual(cellRefOf({ cell_id: 'x' }), { id: 'x' });
    assert.deepEqual(cellRefOf({ cell_index: 0 }), { index: 0 });
    assert.throws(
      () => cellRefOf({ cell_id: 'x', cell_index: 0 }),
      (e: unknown) => code(e) === 'INVALID_ARGUMENT',
    );
    assert.throws(
      () => cellRefOf({}),
      (e: unknown) => code(e) === 'INVALID_ARGUMENT',
    );
    assert.deepEqual(insertRefOf({}), { index: undefined });
    assert.deepEqual(insertRefOf({ after_cell_id: 'x' }), { afterId: 'x' });
    assert.throws(() => insertRefOf({ cell_index: 1, before_cell_id: 'x' }), /cell_index and before_cell_id/);
  });
});

describe('pageOf', () => {
  it('cuts pages that join back to the whole text, never inside a surrogate pair', () => {
    const text = `ab😀cd😀😀e${'x'.repeat(20)}`;
    for (const size of [1, 2, 3, 5, 7]) {
      let whole = '';
      for (let offset: number | null = 0; offset !== null; ) {
        const page = pageOf(text, offset, size);
        assert.ok(page.text.length >= 1 && page.text.length <= Math.max(size, 2), `size ${size}`);
        assert.ok(!/[\ud800-\udbff]$/.test(page.text), 'no page ends on a high surrogate');
        whole += page.text;
        offset = page.nextOffset;
      }
      assert.equal(whole, text);
    }
    assert.deepEqual(pageOf('', 0, 10), { text: '', offset: 0, nextOffset: null, total: 0 });
  });
});
