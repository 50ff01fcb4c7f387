import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { NotebookDocument, serializeNotebook } from '../../src/notebook/document.js';
import { journalPath } from '../../src/notebook/journal.js';
import { holdsWithin, waitUntil } from '../helpers/poll.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A saved session notebook (journaled) of five ~1 MB figures, whose full write is worth avoiding. */
async function largeNotebook(fullSaveIntervalMs = 3000): Promise<NotebookDocument> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-journal-'));
  dirs.push(dir);
  const doc = NotebookDocument.create(path.join(dir, 'large.ipynb'), { name: 'python3', display_name: 'Python 3', language: 'python' });
  doc.journaled = true;
  doc.fullSaveIntervalMs = fullSaveIntervalMs;
  for (let i = 0; i < 5; i++) {
    const cell = doc.newCodeCell(`plot(${i})`);
    cell.outputs = [{ output_type: 'display_data', data: { 'image/png': randomBytes(750_000).toString('base64') }, metadata: {} }];
    doc.insert(cell, doc.cells.length);
  }
  await doc.save();
  return doc;
}

/** A saved session notebook (journaled) of a few small cells, whose fold is cheap. */
async function smallNotebook(fullSaveIntervalMs: number): Promise<NotebookDocument> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-journal-'));
  dirs.push(dir);
  const doc = NotebookDocument.create(path.join(dir, 'small.ipynb'), { name: 'python3', display_name: 'Python 3', language: 'python' });
  doc.journaled = true;
  doc.fullSaveIntervalMs = fullSaveIntervalMs;
  addSmallCell(doc, 'x = 1');
  await doc.save();
  return doc;
}

function addSmallCell(doc: NotebookDocument, source: string): void {
  const cell = doc.newCodeCell(source);
  cell.outputs = [{ output_type: 'execute_result', data: { 'text/plain': '2' }, metadata: {}, execution_count: 1 }];
  doc.insert(cell, doc.cells.length);
}

describe("the journal of a session's notebook", () => {
  it('holds the saves since the last full write; a fresh open sees them all, a flush writes them and ends it', async () => {
    const doc = await largeNotebook();
    const fileBefore = await readFile(doc.path);
    addSmallCell(doc, '1+1');
    await doc.save();
    const small = doc.codeCellAt(-1);
    small.source = '1 + 1  # edited';
    doc.changed(small);
    doc.content.cells[0]!.metadata.tags = ['moved'];
    doc.changed(doc.content.cells[0]!);
    doc.insert(doc.remove(1), 3);
    doc.remove(2);
    doc.content.metadata.title = 'journaled';
    addSmallCell(doc, '2+2');
    await doc.save();
    assert.ok((await readFile(doc.path)).equals(fileBefore), 'the large file was not rewritten for a small cell');
    assert.ok(existsSync(journalPath(doc.path)));
    assert.ok((await stat(journalPath(doc.path))).size < 1_200_000, "the journal holds the changed cells only (one figure cell's metadata changed)");
    const reopened = await NotebookDocument.load(doc.path);
    assert.equal(reopened.serialize(), serializeNotebook(doc.content), 'an open after a crash now sees every save');
    await doc.flush();
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(doc.content));
    assert.ok(!existsSync(journalPath(doc.path)), 'a full write ends the journal');
  });

  it('a record leaves out the notebook text around the cells and their order when they did not change; an open still rebuilds it all', async () => {
    const doc = await largeNotebook(600_000);
    addSmallCell(doc, '1+1');
    await doc.save();
    const cell = doc.codeCellAt(-1);
    cell.outputs = [{ output_type: 'stream', name: 'stdout', text: 'changed\n' }];
    doc.changed(cell);
    await doc.save();
    const [, first, second] = (await readFile(journalPath(doc.path), 'utf8')).split('\n').map((line) => (line ? JSON.parse(line) : undefined));
    assert.deepEqual(Object.keys(first).sort(), ['cells', 'head', 'order', 'tail']);
    assert.deepEqual(Object.keys(second), ['cells'], 'only the changed cell');
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content));
    addSmallCell(doc, '2+2');
    await doc.save();
    const third = JSON.parse((await readFile(journalPath(doc.path), 'utf8')).split('\n')[3]!) as { appended?: string[]; order?: string[] };
    assert.deepEqual(third.appended, [doc.cells.at(-1)!.id], 'a new last cell is said as appended, not the whole order');
    assert.equal(third.order, undefined);
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content));
    doc.insert(doc.remove(0), 2);
    await doc.save();
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content), 'a move writes the whole order');
    doc.content.metadata.title = 'then the metadata';
    await doc.save();
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content));
    await doc.flush();
  });

  it('after any mix of inserts, edits, removals, moves and full writes, an open rebuilds exactly the session notebook', async () => {
    // A small deterministic generator (mulberry32): the same sequence on every run.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = (n: number) => Math.floor(random() * n);
    const doc = await smallNotebook(600_000);
    for (let step = 0; step < 400; step++) {
      const roll = random();
      const count = doc.cells.length;
      if (roll < 0.4 || count < 2) addSmallCell(doc, `x${step} = ${step}`);
      else if (roll < 0.5) doc.insert(doc.newCodeCell(`y${step} = 0`), pick(count + 1));
      else if (roll < 0.7) {
        const cell = doc.codeCellAt(pick(count));
        cell.outputs = [{ output_type: 'stream', name: 'stdout', text: `step ${step}\n` }];
        doc.changed(cell);
      } else if (roll < 0.8) doc.remove(pick(count));
      else if (roll < 0.9) doc.move(pick(count), pick(count));
      else if (roll < 0.95) doc.content.metadata.title = `step ${step}`;
      else await doc.flush();
      if (random() < 0.7) await doc.save();
      if (step % 20 === 19) {
        await doc.save();
        assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content), `after step ${step}`);
      }
    }
    await doc.flush();
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(doc.content));
  });

  it('a cell added while the file is being written in full still reaches the journal', async () => {
    // The cell comes in after the write has taken the cells, while a large file's write awaits the disk.
    for (let turns = 1; turns <= 4; turns++) {
      const doc = await largeNotebook(600_000);
      addSmallCell(doc, 'before');
      const fullWrite = doc.save({ full: true });
      for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
      addSmallCell(doc, 'added during the write');
      await fullWrite;
      await doc.save();
      assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content), `added after ${turns} turn(s)`);
      await doc.flush();
    }
  });

  it("a record's size follows what changed, not the notebook's length", async () => {
    const doc = await smallNotebook(600_000);
    for (let i = 0; i < 2000; i++) addSmallCell(doc, `x${i} = ${i}`);
    await doc.save();
    const sizeBefore = (await stat(journalPath(doc.path))).size;
    addSmallCell(doc, 'one more');
    await doc.save();
    const record = (await stat(journalPath(doc.path))).size - sizeBefore;
    assert.ok(record < 1000, `a one-cell record after 2000 cells took ${record} bytes`);
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), serializeNotebook(doc.content));
    await doc.flush();
  });

  it('a document that is not journaled writes every save in full', async () => {
    const doc = await largeNotebook();
    doc.journaled = false;
    addSmallCell(doc, '1+1');
    await doc.save();
    assert.ok(!existsSync(journalPath(doc.path)));
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(doc.content));
  });

  it('a large notebook (4 MB and up) is folded at the save interval, not after every pause: each fold would rewrite it', async () => {
    const doc = await largeNotebook(600_000);
    addSmallCell(doc, '1+1');
    await doc.save();
    const folded = await holdsWithin('the journal folded', () => !existsSync(journalPath(doc.path)), { timeoutMs: 1500, intervalMs: 20 });
    assert.equal(folded, false, 'no fold in the 1.5 s after the save');
    await doc.flush();
    assert.ok(!existsSync(journalPath(doc.path)));
  });

  it('folds the journal into the file once saves pause (an agent between turns), long before the save interval', async () => {
    const doc = await smallNotebook(600_000);
    addSmallCell(doc, '1+1');
    await doc.save();
    assert.ok(existsSync(journalPath(doc.path)));
    await waitUntil('the journal folded', () => !existsSync(journalPath(doc.path)), { timeoutMs: 30_000, intervalMs: 20 });
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(doc.content));
  });

  it('in a tight loop of saves (no pause), still writes the file in full within the save interval', async () => {
    const doc = await smallNotebook(300);
    const versions = new Set<string>();
    const loopEnds = Date.now() + 2000;
    for (let i = 0; Date.now() < loopEnds; i++) {
      addSmallCell(doc, `${i}+1`);
      await doc.save();
      const now = await stat(doc.path, { bigint: true });
      versions.add(`${now.ino}:${now.size}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // A pause of 0.2 s never came, so only the 0.3 s bound can have rewritten the file (a journaled save leaves it as it is).
    assert.ok(versions.size >= 3, `the file was rewritten ${versions.size - 1} time(s) in 2 s of saves 20 ms apart`);
    await doc.flush();
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(doc.content));
  });

  it('writes in full within the save interval without another save', async () => {
    const doc = await largeNotebook();
    addSmallCell(doc, '1+1');
    await doc.save();
    assert.ok(existsSync(journalPath(doc.path)));
    const deadline = Date.now() + 10_000;
    while (existsSync(journalPath(doc.path)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(doc.content));
  });

  it('keeps the records before a partial last line (a crash mid-append)', async () => {
    const doc = await largeNotebook();
    addSmallCell(doc, '1+1');
    await doc.save();
    const expected = serializeNotebook(doc.content);
    await appendFile(journalPath(doc.path), '{"head":"{\\n","tail');
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), expected);
  });

  it("counts as the session's own changes when someone edits the file after the open that applied it", async () => {
    const doc = await largeNotebook();
    addSmallCell(doc, 'journaled = 1');
    await doc.save();
    const reopened = await NotebookDocument.load(doc.path);
    await writeFile(doc.path, (await readFile(doc.path, 'utf8')).replace('plot(0)', 'plot(9)'));
    await reopened.save();
    const sources = reopened.cells.map((cell) => cell.source);
    assert.deepEqual(sources, ['plot(9)', 'plot(1)', 'plot(2)', 'plot(3)', 'plot(4)', 'journaled = 1']);
    assert.equal(await readFile(doc.path, 'utf8'), serializeNotebook(reopened.content));
    assert.ok(!existsSync(journalPath(doc.path)));
  });

  it('is not applied to a file someone saved since', async () => {
    const doc = await largeNotebook();
    addSmallCell(doc, '1+1');
    await doc.save();
    const theirs = (await readFile(doc.path, 'utf8')).replace('plot(0)', 'plot(9)');
    await writeFile(doc.path, theirs);
    assert.equal((await NotebookDocument.load(doc.path)).serialize(), theirs);
  });
});
