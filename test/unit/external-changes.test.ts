import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NotebookDocument } from '../../src/notebook/document.js';
import { asidePath } from '../../src/notebook/externalChanges.js';
import type { CodeCell } from '../../src/notebook/types.js';
import { readNotebook } from '../helpers/notebookFile.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'jlab-ext-'));
const read = (file: string) => readNotebook<{ cells: Array<{ id: string; source: string[]; outputs?: unknown[] }>; metadata: Record<string, unknown> }>(file);

/** A saved two-cell notebook, as a session leaves it after two cells. */
async function savedNotebook() {
  const file = path.join(await tmp(), 'n.ipynb');
  const doc = NotebookDocument.create(file, { name: 'python3', display_name: 'Python 3' });
  doc.insert(doc.newCodeCell('a = 1'), 0);
  doc.insert(doc.newCodeCell('b = 2'), 1);
  await doc.save();
  return { file, doc };
}

/** Someone else edits the file (not through the document): `edit` changes the parsed JSON. */
async function editOnDisk(file: string, edit: (nb: Awaited<ReturnType<typeof read>>) => void): Promise<void> {
  const nb = await read(file);
  edit(nb);
  await writeFile(file, JSON.stringify(nb));
}

describe('changes on disk by someone else (DiskSync via NotebookDocument)', () => {
  it('a cell they added and one we added both survive the next save, and the agent is told', async () => {
    const { file, doc } = await savedNotebook();
    await editOnDisk(file, (nb) => nb.cells.splice(1, 0, { id: 'human1', cell_type: 'markdown', metadata: {}, source: ['# by hand'] } as never));
    doc.insert(doc.newCodeCell('c = 3'), doc.cells.length);
    await doc.save();
    const written = await read(file);
    assert.deepEqual(
      written.cells.map((cell) => cell.source.join('')),
      ['a = 1', '# by hand', 'b = 2', 'c = 3'],
    );
    assert.equal(doc.cells[1]!.id, 'human1');
    const notes = doc.takeDiskNotes();
    assert.match(notes.join('\n'), /Someone else changed n\.ipynb on disk[\s\S]*1 cell added \(1\)/);
    assert.deepEqual(doc.takeDiskNotes(), [], 'told once');
  });

  it('no change on disk: no read, no note; a touch without a content change: no note either', async () => {
    const { file, doc } = await savedNotebook();
    await doc.save();
    assert.deepEqual(doc.takeDiskNotes(), []);
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    (doc.cells[0] as CodeCell).execution_count = 1;
    doc.changed(doc.cells[0]!);
    await doc.save();
    assert.deepEqual(doc.takeDiskNotes(), []);
    assert.equal((await read(file)).cells.length, 2);
  });

  it('a file that does not parse is not overwritten: ours goes aside, then merges once it is repaired', async () => {
    const { file, doc } = await savedNotebook();
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.slice(0, 40)); // someone mid-save, or broken JSON
    doc.insert(doc.newCodeCell('c = 3'), 2);
    await doc.save();
    assert.equal(await readFile(file, 'utf8'), good.slice(0, 40), 'left alone');
    const aside = asidePath(file);
    assert.deepEqual(
      (await read(aside)).cells.map((cell) => cell.source.join('')),
      ['a = 1', 'b = 2', 'c = 3'],
    );
    assert.match(doc.takeDiskNotes().join('\n'), /is not a notebook jlab-mcp can read now[\s\S]*n\.jlab-mcp-unmerged\.ipynb/);
    await doc.save();
    assert.deepEqual(doc.takeDiskNotes(), [], 'said once');
    // Repaired by hand, with a change of theirs.
    const repaired = JSON.parse(good) as { cells: Array<{ source: string[] }> };
    repaired.cells[0]!.source = ['a = 10'];
    await writeFile(file, JSON.stringify(repaired));
    await doc.save();
    assert.deepEqual(
      (await read(file)).cells.map((cell) => cell.source.join('')),
      ['a = 10', 'b = 2', 'c = 3'],
    );
    assert.match(doc.takeDiskNotes().join('\n'), /valid notebook again/);
    await rm(aside);
  });

  it('the aside file never overwrites a file already there under its name: it takes the next free one', async () => {
    const { file, doc } = await savedNotebook();
    await writeFile(asidePath(file), "a person's own file");
    await writeFile(file, '{ broken');
    doc.insert(doc.newCodeCell('c = 3'), 2);
    await doc.save();
    await doc.save(); // again while still broken: the same aside file
    assert.equal(await readFile(asidePath(file), 'utf8'), "a person's own file", 'left alone');
    const aside = path.join(path.dirname(file), 'n.jlab-mcp-unmerged-2.ipynb');
    assert.deepEqual(
      (await read(aside)).cells.map((cell) => cell.source.join('')),
      ['a = 1', 'b = 2', 'c = 3'],
    );
    assert.match(doc.takeDiskNotes().join('\n'), /n\.jlab-mcp-unmerged-2\.ipynb/);
  });

  it('a notebook replaced by a FIFO is not read (the read would never end) nor overwritten: ours goes aside', { timeout: 10_000 }, async () => {
    const { file, doc } = await savedNotebook();
    await rm(file);
    execFileSync('mkfifo', [file]);
    doc.insert(doc.newCodeCell('c = 3'), 2);
    await doc.save();
    assert.ok((await stat(file)).isFIFO(), 'left alone');
    assert.deepEqual(
      (await read(asidePath(file))).cells.map((cell) => cell.source.join('')),
      ['a = 1', 'b = 2', 'c = 3'],
    );
    assert.match(doc.takeDiskNotes().join('\n'), /not a regular file/);
  });

  it('a deleted file is written again, and the agent is told', async () => {
    const { file, doc } = await savedNotebook();
    await rm(file);
    await doc.save();
    assert.equal((await read(file)).cells.length, 2);
    assert.match(doc.takeDiskNotes().join('\n'), /was not on disk any more/);
  });

  it('a loaded notebook merges an edit made after it was read', async () => {
    const { file } = await savedNotebook();
    const doc = await NotebookDocument.load(file);
    await editOnDisk(file, (nb) => {
      nb.cells[1]!.source = ['b = 20  # person'];
      nb.metadata.title = 'kept';
    });
    doc.insert(doc.newMarkdownCell('agent note'), 2);
    await doc.save();
    const written = await read(file);
    assert.deepEqual(
      written.cells.map((cell) => cell.source.join('')),
      ['a = 1', 'b = 20  # person', 'agent note'],
    );
    assert.equal(written.metadata.title, 'kept');
  });

  it('every save stamps the next revision in the notebook metadata; a loaded notebook goes on from its own', async () => {
    const { file, doc } = await savedNotebook();
    assert.equal(((await read(file)).metadata.jlab_mcp as { revision?: number } | undefined)?.revision, 1);
    await doc.save();
    assert.deepEqual((await read(file)).metadata.jlab_mcp, { revision: 2 });
    const again = await NotebookDocument.load(file);
    again.insert(again.newCodeCell('c = 3'), 2);
    await again.save();
    assert.deepEqual((await read(file)).metadata.jlab_mcp, { revision: 3 });
  });

  it("a copy saved from an older revision (Overwrite in JupyterLab) merges against that revision: the agent's newer cells and outputs stay", async () => {
    const { file, doc } = await savedNotebook();
    const opened = await readFile(file, 'utf8'); // the person's editor opens revision 1
    (doc.cells[0] as CodeCell).outputs = [{ output_type: 'stream', name: 'stdout', text: '1\n' }];
    doc.changed(doc.cells[0]!);
    await doc.save();
    doc.insert(doc.newCodeCell('c = 3'), 2);
    await doc.save();
    doc.insert(doc.newCodeCell('d = 4'), 3);
    await doc.save();
    // They edit b in the copy they opened and save it over the file.
    const stale = JSON.parse(opened) as Awaited<ReturnType<typeof read>>;
    stale.cells[1]!.source = ['b = 20  # person'];
    await writeFile(file, JSON.stringify(stale));
    doc.insert(doc.newCodeCell('e = 5'), 4);
    await doc.save();
    const written = await read(file);
    assert.deepEqual(
      written.cells.map((cell) => cell.source.join('')),
      ['a = 1', 'b = 20  # person', 'c = 3', 'd = 4', 'e = 5'],
    );
    assert.deepEqual(written.cells[0]!.outputs, [{ output_type: 'stream', name: 'stdout', text: '1\n' }]);
    assert.equal((written.metadata.jlab_mcp as { revision: number }).revision, 5);
    const notes = doc.takeDiskNotes().join('\n');
    assert.match(notes, /1 cell edited \(1\)/);
    assert.doesNotMatch(notes, /deleted/);
  });

  it('their editor saving over the file again (still stamped with the old revision) merges against what it saved the first time', async () => {
    const { file, doc } = await savedNotebook();
    const editor = await readNotebook<Awaited<ReturnType<typeof read>>>(file);
    doc.insert(doc.newCodeCell('c = 3'), 2);
    await doc.save();
    editor.cells.push({ id: 'mine', cell_type: 'markdown', metadata: {}, source: ['draft'] } as never);
    await writeFile(file, JSON.stringify(editor));
    doc.insert(doc.newCodeCell('d = 4'), doc.cells.length);
    await doc.save();
    editor.cells[2]!.source = ['final'];
    editor.cells[0]!.source = ['a = 10  # person'];
    await writeFile(file, JSON.stringify(editor));
    await doc.save();
    const sources = (await read(file)).cells.map((cell) => cell.source.join(''));
    assert.deepEqual(
      sources.sort(),
      ['a = 10  # person', 'b = 2', 'c = 3', 'd = 4', 'final'].sort(),
      "their cell once, in its last version; the agent's cells kept",
    );
    assert.doesNotMatch(doc.takeDiskNotes().join('\n'), /Conflict|deleted/);
  });

  it("a copy from a revision no longer kept merges against the nearest older one: nothing of the agent's is lost", async () => {
    const { file, doc } = await savedNotebook();
    doc.insert(doc.newCodeCell('c = 3'), 2);
    await doc.save();
    const opened = await readFile(file, 'utf8'); // revision 2
    for (let i = 0; i < 40; i++) {
      doc.insert(doc.newCodeCell(`x${i} = ${i}`), doc.cells.length);
      await doc.save();
    }
    const stale = JSON.parse(opened) as Awaited<ReturnType<typeof read>>;
    stale.cells[0]!.source = ['a = 10  # person'];
    await writeFile(file, JSON.stringify(stale));
    await doc.save();
    const sources = (await read(file)).cells.map((cell) => cell.source.join(''));
    assert.equal(sources.length, 43);
    assert.deepEqual(sources.slice(0, 3), ['a = 10  # person', 'b = 2', 'c = 3'], 'c (in their copy and ours, not in the older base) once');
  });

  it("a copy older than every state this session knows (opened before it loaded the file) loses none of the agent's cells", async () => {
    const { file, doc: yesterday } = await savedNotebook();
    const editor = await read(file); // revision 1, open in a person's editor
    yesterday.insert(yesterday.newCodeCell('c = 3  # agent, yesterday'), 2);
    await yesterday.save();
    const doc = await NotebookDocument.load(file); // a new session: it knows revision 2 on
    doc.insert(doc.newCodeCell('d = 4'), 3);
    await doc.save();
    editor.cells[0]!.source = ['a = 10  # person'];
    await writeFile(file, JSON.stringify(editor));
    doc.insert(doc.newCodeCell('e = 5'), doc.cells.length);
    await doc.save();
    const sources = (await read(file)).cells.map((cell) => cell.source.join(''));
    for (const kept of ['a = 10  # person', 'b = 2', 'c = 3  # agent, yesterday', 'd = 4', 'e = 5'])
      assert.ok(sources.includes(kept), `${kept} kept: ${JSON.stringify(sources)}`);
    assert.doesNotMatch(doc.takeDiskNotes().join('\n'), /deleted/);
  });

  it('a file without the stamp (dropped by its editor, or from elsewhere) merges against the last write', async () => {
    const { file, doc } = await savedNotebook();
    await editOnDisk(file, (nb) => {
      delete nb.metadata.jlab_mcp;
      nb.cells.pop();
    });
    await doc.save();
    assert.deepEqual(
      (await read(file)).cells.map((cell) => cell.source.join('')),
      ['a = 1'],
    );
    assert.equal(((await read(file)).metadata.jlab_mcp as { revision: number }).revision, 2);
  });

  it('refresh (read_notebook) takes their edits without writing when the session adds nothing', async () => {
    const { file, doc } = await savedNotebook();
    await editOnDisk(file, (nb) => nb.cells.pop());
    const before = await stat(file, { bigint: true });
    await doc.refresh();
    assert.deepEqual(
      doc.cells.map((cell) => cell.source),
      ['a = 1'],
    );
    const after = await stat(file, { bigint: true });
    assert.equal(after.mtimeNs, before.mtimeNs, 'not written');
    assert.equal(after.ino, before.ino);
    await doc.save();
    assert.deepEqual(doc.takeDiskNotes().length, 1, 'told once, not again at the next save');
  });
});
