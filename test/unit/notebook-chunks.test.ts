import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { NotebookDocument, serializeNotebook } from '../../src/notebook/document.js';
import { chunksAfter } from '../../src/notebook/notebookChunks.js';
import { writeFileAtomic } from '../../src/notebook/atomicWrite.js';
import type { CodeCell } from '../../src/notebook/types.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function freshDocument(): Promise<NotebookDocument> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-chunks-'));
  dirs.push(dir);
  return NotebookDocument.create(path.join(dir, 'chunks.ipynb'), { name: 'python3', display_name: 'Python 3', language: 'python' });
}

/** Saves, then checks the file's bytes against a serialization that uses no cache at all. */
async function assertFileIsFreshSerialization(doc: NotebookDocument, step: string): Promise<void> {
  await doc.save();
  const onDisk = await readFile(doc.path);
  const fresh = Buffer.from(serializeNotebook(doc.content), 'utf8');
  assert.ok(onDisk.equals(fresh), `after ${step}: the file differs from a fresh serialization`);
  assert.ok(Buffer.concat(doc.serializeChunks()).equals(fresh), `after ${step}: the chunks differ from a fresh serialization`);
  assert.equal(doc.serialize(), fresh.toString('utf8'), `after ${step}: the text differs from a fresh serialization`);
}

function figure(bytes: number): CodeCell['outputs'][number] {
  return { output_type: 'display_data', data: { 'image/png': `${randomBytes(bytes).toString('base64')}\n`, 'text/plain': '<Figure>' }, metadata: {} };
}

describe('chunked saves', () => {
  it('write the same bytes as a fresh full serialization after edits of every kind', async () => {
    const doc = await freshDocument();
    await assertFileIsFreshSerialization(doc, 'creating an empty notebook');
    const cells = ['1+1', 'print("é ✓ 😀")', 'plot()'].map((source) => doc.insert(doc.newCodeCell(source), doc.cells.length));
    doc.insert(doc.newMarkdownCell('# Title\nwith ünïcode'), 0);
    await assertFileIsFreshSerialization(doc, 'adding cells');
    const plot = doc.codeCellAt(cells[2]! + 1);
    plot.outputs.push(figure(300_000));
    plot.execution_count = 3;
    doc.changed(plot);
    await assertFileIsFreshSerialization(doc, 'adding an output (a large file: the asynchronous write)');
    const printed = doc.codeCellAt(2);
    printed.source = 'print("changed")\nprint(2)';
    printed.outputs = [{ output_type: 'stream', name: 'stdout', text: 'changed\n2\n' }];
    doc.changed(printed);
    await assertFileIsFreshSerialization(doc, 'editing a cell and its outputs');
    plot.outputs.unshift(plot.outputs.pop()!, figure(10));
    doc.changed(plot);
    await assertFileIsFreshSerialization(doc, 'moving outputs within a cell');
    plot.metadata = { tags: ['figure'], jupyter: { source_hidden: true } };
    doc.changed(plot);
    await assertFileIsFreshSerialization(doc, 'changing cell metadata');
    doc.content.metadata.title = 'Chunks «test»';
    await assertFileIsFreshSerialization(doc, 'changing notebook metadata');
    doc.insert(doc.remove(doc.indexOf(plot)), 0);
    await assertFileIsFreshSerialization(doc, 'moving a cell');
    doc.remove(1);
    await assertFileIsFreshSerialization(doc, 'deleting a cell');
    plot.outputs = [];
    doc.changed(plot);
    await assertFileIsFreshSerialization(doc, 'clearing outputs (a small file again: the synchronous write)');
    while (doc.cells.length > 0) doc.remove(0);
    await assertFileIsFreshSerialization(doc, 'deleting every cell');
  });

  it('continue a short write from the byte where it stopped', () => {
    const chunks = [Buffer.from('ab'), Buffer.from('cde'), Buffer.from('f')];
    const rest = (written: number) => Buffer.concat(chunksAfter(chunks, written)).toString();
    assert.equal(rest(0), 'abcdef');
    assert.equal(rest(1), 'bcdef');
    assert.equal(rest(2), 'cdef');
    assert.equal(rest(4), 'ef');
    assert.equal(rest(5), 'f');
    assert.deepEqual(chunksAfter(chunks, 6), []);
  });

  it('writeFileAtomic writes chunks, empty ones included, as their concatenation', async () => {
    const doc = await freshDocument();
    const chunks = [Buffer.from('{'), Buffer.alloc(0), Buffer.alloc(600_000, 'x'), Buffer.alloc(0), Buffer.from('}\n')];
    await writeFileAtomic(doc.path, chunks);
    assert.ok((await readFile(doc.path)).equals(Buffer.concat(chunks)));
    await writeFileAtomic(doc.path, [Buffer.alloc(0)]);
    assert.equal((await readFile(doc.path)).length, 0);
  });
});
