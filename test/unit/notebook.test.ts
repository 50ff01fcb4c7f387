import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, stat, symlink, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NotebookDocument, serializeNotebook, splitLines } from '../../src/notebook/document.js';
import { claimNotebookPath, sanitizeStem } from '../../src/notebook/naming.js';
import { resolveNotebookPath } from '../../src/notebook/confine.js';
import { writeFileAtomic } from '../../src/notebook/atomicWrite.js';
import { JlabError } from '../../src/util/errors.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'jlab-unit-'));

describe('NotebookDocument', () => {
  it('creates an nbformat 4.5 notebook with kernelspec and ids, and saves it with Jupyter layout', async () => {
    const dir = await tmp();
    const doc = NotebookDocument.create(path.join(dir, 'a.ipynb'), { name: 'python3', display_name: 'Python 3', language: 'python' }, { name: 'python' });
    const cell = doc.newCodeCell('x = 1\nprint(x)');
    doc.insert(cell, doc.resolveInsertIndex(undefined));
    doc.insert(doc.newMarkdownCell('# Title'), 0);
    await doc.save();
    const written = JSON.parse(await readFile(doc.path, 'utf8'));
    assert.equal(written.nbformat, 4);
    assert.equal(written.nbformat_minor, 5);
    assert.deepEqual(written.metadata.kernelspec, { name: 'python3', display_name: 'Python 3', language: 'python' });
    assert.deepEqual(written.cells[1].source, ['x = 1\n', 'print(x)']);
    assert.equal(written.cells[0].cell_type, 'markdown');
    assert.match(written.cells[0].id, /^[0-9a-f]{8}$/);
    assert.notEqual(written.cells[0].id, written.cells[1].id);
    assert.equal(written.cells[0].outputs, undefined);
  });

  it('resolves negative indices and rejects out-of-range ones with the valid range', () => {
    const doc = NotebookDocument.create('/x.ipynb');
    for (const s of ['a', 'b', 'c']) doc.insert(doc.newCodeCell(s), doc.cells.length);
    assert.equal(doc.resolveIndex(-1), 2);
    assert.equal(doc.resolveIndex(-3), 0);
    assert.equal(doc.resolveIndex(1), 1);
    for (const bad of [3, -4, 1.5]) {
      assert.throws(() => doc.resolveIndex(bad), (e: unknown) => e instanceof JlabError && e.code === 'CELL_INDEX_OUT_OF_RANGE' && /3 cell/.test(e.message));
    }
    assert.equal(doc.resolveInsertIndex(3), 3);
    assert.equal(doc.resolveInsertIndex(-1), 2);
    assert.throws(() => doc.resolveInsertIndex(4), /out of range/);
  });

  it('refuses to treat a markdown cell as code and vice versa', () => {
    const doc = NotebookDocument.create('/x.ipynb');
    doc.insert(doc.newMarkdownCell('m'), 0);
    assert.throws(() => doc.codeCellAt(0), (e: unknown) => e instanceof JlabError && e.code === 'NOT_A_CODE_CELL');
    assert.equal(doc.markdownCellAt(-1).source, 'm');
  });

  it('loads old notebooks: joins sources, adds missing ids, keeps unknown fields, upgrades to 4.5', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'old.ipynb');
    await writeFile(
      file,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 2,
        metadata: { custom: { keep: true } },
        cells: [
          { cell_type: 'code', metadata: { tags: ['t'] }, source: ['a = 1\n', 'a'], outputs: [], execution_count: 3 },
          { cell_type: 'markdown', metadata: {}, source: 'hi', id: 'dup' },
          { cell_type: 'raw', metadata: {}, source: 'raw', id: 'dup' },
        ],
      }),
    );
    const doc = await NotebookDocument.load(file);
    assert.equal(doc.cells[0]!.source, 'a = 1\na');
    assert.equal(doc.content.nbformat_minor, 5);
    assert.deepEqual(doc.content.metadata.custom, { keep: true });
    assert.deepEqual(doc.cells[0]!.metadata, { tags: ['t'] });
    const ids = doc.cells.map((c) => c.id);
    assert.equal(new Set(ids).size, 3);
    assert.equal(ids[1], 'dup');
  });

  it('rejects files that are not nbformat 4 notebooks', async () => {
    const dir = await tmp();
    for (const [name, text] of [['a.ipynb', 'not json'], ['b.ipynb', '{"nbformat":3,"cells":[]}'], ['c.ipynb', '{"nbformat":4}']]) {
      await writeFile(path.join(dir, name!), text!);
      await assert.rejects(NotebookDocument.load(path.join(dir, name!)), (e: unknown) => e instanceof JlabError && e.code === 'NOTEBOOK_INVALID');
    }
  });

  it('serializes exactly as JSON.stringify(…, null, 1) would, and re-serializes only changed cells', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'order.ipynb');
    // Jupyter writes "cells" first; the key order of a loaded notebook must survive.
    await writeFile(file, JSON.stringify({ cells: [{ cell_type: 'code', id: 'a1', metadata: {}, source: 'x = 1\ny = "q\\"uote"', outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }], execution_count: 1 }, { cell_type: 'markdown', id: 'b2', metadata: {}, source: '# T' }], metadata: { kernelspec: { name: 'python3', display_name: 'P' } }, nbformat: 4, nbformat_minor: 5 }));
    const doc = await NotebookDocument.load(file);
    const plain = (d: NotebookDocument) => `${JSON.stringify({ ...d.content, cells: d.cells.map((c) => ({ ...c, source: splitLines(c.source) })) }, null, 1)}\n`;
    assert.equal(doc.serialize(), plain(doc));
    assert.equal(serializeNotebook(doc.content), plain(doc));
    const cell = doc.codeCellAt(0);
    cell.source = 'changed';
    assert.notEqual(doc.serialize(), plain(doc), 'a change not reported keeps the cached text');
    doc.changed(cell);
    assert.equal(doc.serialize(), plain(doc));
    const empty = NotebookDocument.create(path.join(dir, 'e.ipynb'));
    assert.equal(empty.serialize(), plain(empty));
  });

  it('splitLines keeps line ends and gives [] for empty text', () => {
    assert.deepEqual(splitLines(''), []);
    assert.deepEqual(splitLines('a\nb\n'), ['a\n', 'b\n']);
    assert.match(serializeNotebook({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }), /\n$/);
  });
});

describe('naming', () => {
  it('sanitizes experiment names into safe stems', () => {
    assert.equal(sanitizeStem('My Experiment #1'), 'My_Experiment_1');
    assert.equal(sanitizeStem('../../etc/passwd'), 'etc_passwd');
    assert.equal(sanitizeStem('...'), 'notebook');
    assert.equal(sanitizeStem('a'.repeat(300)).length, 80);
  });

  it('never reuses a name: collisions get -2, -3, even when claimed concurrently', async () => {
    const dir = await tmp();
    const paths = await Promise.all(Array.from({ length: 5 }, () => claimNotebookPath(dir, 'exp')));
    assert.equal(new Set(paths).size, 5);
    assert.deepEqual((await readdir(dir)).sort(), ['exp-2.ipynb', 'exp-3.ipynb', 'exp-4.ipynb', 'exp-5.ipynb', 'exp.ipynb']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole, leaves no temp files, and takes its mode from the umask', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'n.ipynb');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    assert.equal(await readFile(file, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['n.ipynb']);
    const umask = process.umask();
    assert.equal((await stat(file)).mode & 0o777, 0o666 & ~umask);
  });

  it('leaves the old content and no temp file when the write fails', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'n.ipynb');
    await writeFileAtomic(file, 'old');
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing-dir', 'x.ipynb'), 'new'));
    assert.equal(await readFile(file, 'utf8'), 'old');
    assert.deepEqual(await readdir(dir), ['n.ipynb']);
  });
});

describe('resolveNotebookPath (confinement)', () => {
  it('accepts files inside, relative or absolute, and refuses everything that leaves', async () => {
    const base = await tmp();
    const root = path.join(base, 'notebooks');
    const sibling = path.join(base, 'notebooks2');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await mkdir(sibling);
    await writeFile(path.join(root, 'sub', 'ok.ipynb'), '{}');
    await writeFile(path.join(sibling, 'x.ipynb'), '{}');
    await writeFile(path.join(base, 'outside.ipynb'), '{}');
    await symlink(path.join(base, 'outside.ipynb'), path.join(root, 'link.ipynb'));
    await symlink(sibling, path.join(root, 'dirlink'));
    await symlink(path.join(root, 'sub', 'ok.ipynb'), path.join(root, 'inlink.ipynb'));

    assert.equal(await resolveNotebookPath(root, 'sub/ok.ipynb'), path.join(root, 'sub', 'ok.ipynb'));
    assert.equal(await resolveNotebookPath(root, path.join(root, 'sub', 'ok.ipynb')), path.join(root, 'sub', 'ok.ipynb'));
    assert.equal(await resolveNotebookPath(root, 'inlink.ipynb'), path.join(root, 'sub', 'ok.ipynb'));

    const refused = (e: unknown) => e instanceof JlabError && e.code === 'PATH_OUTSIDE_NOTEBOOK_DIR';
    for (const bad of ['../outside.ipynb', path.join(base, 'outside.ipynb'), '/etc/passwd', path.join(sibling, 'x.ipynb'), '../notebooks2/x.ipynb', 'link.ipynb', 'dirlink/x.ipynb', '../nope.ipynb', root]) {
      await assert.rejects(resolveNotebookPath(root, bad), refused, bad);
    }
    await assert.rejects(resolveNotebookPath(root, 'missing.ipynb'), (e: unknown) => e instanceof JlabError && e.code === 'NOTEBOOK_NOT_FOUND');
    await assert.rejects(resolveNotebookPath(root, 'sub'), (e: unknown) => e instanceof JlabError && e.code === 'NOTEBOOK_NOT_FOUND');
  });
});
