import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NotebookDocument, serializeNotebook, splitLines } from '../../src/notebook/document.js';
import { claimNotebookPath, sanitizeStem } from '../../src/notebook/naming.js';
import { resolveNotebookPath } from '../../src/notebook/confine.js';
import { describeWriteError, writeFileAtomic } from '../../src/notebook/atomicWrite.js';
import { JlabError } from '../../src/util/errors.js';
import { fillUntil, mountTmpfs, remount, TMPFS_SKIP, type Tmpfs } from '../helpers/tmpfs.js';
import { readNotebook } from '../helpers/notebookFile.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'jlab-unit-'));

describe('NotebookDocument', () => {
  it('creates an nbformat 4.5 notebook with kernelspec and ids, and saves it with Jupyter layout', async () => {
    const dir = await tmp();
    const doc = NotebookDocument.create(path.join(dir, 'a.ipynb'), { name: 'python3', display_name: 'Python 3', language: 'python' }, { name: 'python' });
    const cell = doc.newCodeCell('x = 1\nprint(x)');
    doc.insert(cell, doc.resolveInsertIndex(undefined));
    doc.insert(doc.newMarkdownCell('# Title'), 0);
    await doc.save();
    const written = await readNotebook(doc.path);
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
      assert.throws(
        () => doc.resolveIndex(bad),
        (e: unknown) => e instanceof JlabError && e.code === 'CELL_INDEX_OUT_OF_RANGE' && /3 cell/.test(e.message),
      );
    }
    assert.equal(doc.resolveInsertIndex(3), 3);
    assert.equal(doc.resolveInsertIndex(-1), 2);
    assert.throws(() => doc.resolveInsertIndex(4), /out of range/);
  });

  it('refuses to treat a markdown cell as code and vice versa', () => {
    const doc = NotebookDocument.create('/x.ipynb');
    doc.insert(doc.newMarkdownCell('m'), 0);
    assert.throws(
      () => doc.codeCellAt(0),
      (e: unknown) => e instanceof JlabError && e.code === 'NOT_A_CODE_CELL',
    );
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
    for (const [name, text] of [
      ['a.ipynb', 'not json'],
      ['b.ipynb', '{"nbformat":3,"cells":[]}'],
      ['c.ipynb', '{"nbformat":4}'],
    ]) {
      await writeFile(path.join(dir, name!), text!);
      await assert.rejects(NotebookDocument.load(path.join(dir, name!)), (e: unknown) => e instanceof JlabError && e.code === 'NOTEBOOK_INVALID');
    }
  });

  it('serializes exactly as JSON.stringify(…, null, 1) would, and re-serializes only changed cells', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'order.ipynb');
    // Jupyter writes "cells" first; the key order of a loaded notebook must survive.
    await writeFile(
      file,
      JSON.stringify({
        cells: [
          {
            cell_type: 'code',
            id: 'a1',
            metadata: {},
            source: 'x = 1\ny = "q\\"uote"',
            outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }],
            execution_count: 1,
          },
          { cell_type: 'markdown', id: 'b2', metadata: {}, source: '# T' },
        ],
        metadata: { kernelspec: { name: 'python3', display_name: 'P' } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const doc = await NotebookDocument.load(file);
    const plain = (d: NotebookDocument) =>
      `${JSON.stringify({ ...d.content, cells: d.cells.map((c) => ({ ...c, source: splitLines(c.source) })) }, null, 1)}\n`;
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

  it('keeps the mode of an existing file (0640) across rewrites, small and large', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'n.ipynb');
    await writeFileAtomic(file, 'one');
    await chmod(file, 0o640);
    await writeFileAtomic(file, 'two');
    assert.equal((await stat(file)).mode & 0o7777, 0o640);
    await chmod(file, 0o604);
    await writeFileAtomic(file, 'x'.repeat(600 * 1024)); // above the sync-write limit: the async path
    assert.equal((await stat(file)).mode & 0o7777, 0o604);
    assert.equal((await readFile(file, 'utf8')).length, 600 * 1024);
    assert.deepEqual(await readdir(dir), ['n.ipynb']);
  });

  it('names the cause of a failed write in plain words', () => {
    const failure = (code: string) => Object.assign(new Error(`${code}: system words, write`), { code });
    assert.equal(describeWriteError(failure('ENOSPC')), 'disk full');
    assert.equal(describeWriteError(failure('EDQUOT')), 'disk quota exceeded');
    assert.equal(describeWriteError(failure('EACCES')), 'permission denied');
    assert.equal(describeWriteError(failure('EPERM')), 'permission denied');
    assert.equal(describeWriteError(failure('EROFS')), 'read-only file system');
    assert.equal(describeWriteError(failure('EIO')), 'EIO: system words, write');
  });
});

describe('writeFileAtomic on a really full disk (tmpfs)', { skip: TMPFS_SKIP }, () => {
  let disk: Tmpfs | undefined;
  before(async () => {
    disk = await mountTmpfs('1m');
  });
  after(async () => {
    await disk?.unmount();
  });

  /** A notebook file with `size` bytes of old content, the rest of the disk filled but `leave` bytes. */
  async function fullDiskWith(name: string, size: number, leave: number): Promise<{ file: string; old: Buffer; filler: string }> {
    const file = path.join(disk!.dir, name);
    const old = Buffer.from(`{"old": "${'o'.repeat(size - 12)}"}\n`);
    await writeFileAtomic(file, old.toString());
    const filler = await fillUntil(disk!.dir, leave);
    return { file, old, filler };
  }

  for (const [label, newSize] of [
    ['small (sync path)', 40 * 1024],
    ['large (async path)', 600 * 1024],
  ] as const) {
    it(`${label}: a write cut short by a full disk fails, the old bytes and mode stay, no temp file`, async () => {
      const { file, old, filler } = await fullDiskWith('n.ipynb', 20 * 1024, 8192);
      await chmod(file, 0o640);
      // 8 KiB free and 40 KiB to write: the first write() is short, the next one fails.
      const failed = await writeFileAtomic(file, 'n'.repeat(newSize)).then(
        () => assert.fail('the write succeeded on a full disk'),
        (error: NodeJS.ErrnoException) => error,
      );
      assert.equal(failed.code, 'ENOSPC');
      assert.deepEqual(await readFile(file), old);
      assert.equal((await stat(file)).mode & 0o7777, 0o640);
      assert.deepEqual((await readdir(disk!.dir)).sort(), ['filler.bin', 'n.ipynb']);
      await rm(filler);
      await writeFileAtomic(file, 'n'.repeat(newSize));
      assert.equal((await readFile(file, 'utf8')).length, newSize);
      assert.equal((await stat(file)).mode & 0o7777, 0o640);
      await rm(file);
    });
  }

  it('NotebookDocument.save() on a full disk: NOTEBOOK_WRITE_FAILED names the path and "disk full", the file stays', async () => {
    const file = path.join(disk!.dir, 'doc.ipynb');
    const doc = NotebookDocument.create(file, { name: 'python3', display_name: 'Python 3', language: 'python' });
    await doc.save();
    const old = await readFile(file);
    const filler = await fillUntil(disk!.dir, 0);
    doc.insert(doc.newMarkdownCell('m'.repeat(10_000)), 0);
    await assert.rejects(doc.save(), (error: JlabError) => {
      assert.equal(error.code, 'NOTEBOOK_WRITE_FAILED');
      assert.equal(error.message, `Could not write ${file}: disk full; the previous version of the file (if any) is intact.`);
      assert.match(error.hint ?? '', /^Free space on that disk; .*next save that succeeds writes them all/);
      return true;
    });
    assert.deepEqual(await readFile(file), old);
    assert.deepEqual((await readdir(disk!.dir)).sort(), ['doc.ipynb', 'filler.bin']);
    await rm(filler);
    await doc.save();
    assert.match(await readFile(file, 'utf8'), /mmmm/);
    await rm(file);
  });

  it('NotebookDocument.save() on a read-only file system: "read-only file system", the file stays', async () => {
    const file = path.join(disk!.dir, 'ro.ipynb');
    const doc = NotebookDocument.create(file, { name: 'python3', display_name: 'Python 3', language: 'python' });
    await doc.save();
    const old = await readFile(file);
    await remount(disk!.dir, 'ro');
    try {
      doc.insert(doc.newMarkdownCell('late'), 0);
      await assert.rejects(doc.save(), (error: JlabError) => {
        assert.equal(error.message, `Could not write ${file}: read-only file system; the previous version of the file (if any) is intact.`);
        assert.match(error.hint ?? '', /^Make the notebook and its directory writable; /);
        return true;
      });
    } finally {
      await remount(disk!.dir, 'rw');
    }
    assert.deepEqual(await readFile(file), old);
    assert.deepEqual(await readdir(disk!.dir), ['ro.ipynb']);
    await rm(file);
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
    for (const bad of [
      '../outside.ipynb',
      path.join(base, 'outside.ipynb'),
      '/etc/passwd',
      path.join(sibling, 'x.ipynb'),
      '../notebooks2/x.ipynb',
      'link.ipynb',
      'dirlink/x.ipynb',
      '../nope.ipynb',
      root,
    ]) {
      await assert.rejects(resolveNotebookPath(root, bad), refused, bad);
    }
    await assert.rejects(resolveNotebookPath(root, 'missing.ipynb'), (e: unknown) => e instanceof JlabError && e.code === 'NOTEBOOK_NOT_FOUND');
    await assert.rejects(resolveNotebookPath(root, 'sub'), (e: unknown) => e instanceof JlabError && e.code === 'NOTEBOOK_NOT_FOUND');
  });
});
