import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { notebookSettled, readCells } from '../helpers/notebookFile.js';
import { waitUntil } from '../helpers/poll.js';
import { readNotebook } from '../helpers/notebookFile.js';

const run = promisify(execFile);

/**
 * A person edits the notebook file with Python's nbformat (as JupyterLab or a script would)
 * while the agent works: `body` runs with `nb` read from the file and is written back, and
 * `cell(src)` finds a cell by its source.
 */
async function humanEdit(file: string, body: string): Promise<void> {
  // They edit what their editor shows: the file once the agent's last reply is folded into it.
  await notebookSettled(file);
  const script = [
    'import sys, nbformat',
    'from nbformat.v4 import new_code_cell, new_markdown_cell',
    'p = sys.argv[1]',
    'nb = nbformat.read(p, as_version=4)',
    'def cell(src):',
    '    return next(c for c in nb.cells if c.source == src)',
    body,
    'nbformat.write(nb, p)',
  ].join('\n');
  await run('/usr/bin/python3', ['-c', script, file]);
}

interface FileCell {
  id: string;
  cell_type: string;
  source: string[];
  outputs?: Array<{ text?: string | string[] }>;
  metadata: Record<string, unknown>;
}
const cellsOf = (file: string) => readCells<FileCell>(file);
const sourceOf = (cell: FileCell) => cell.source.join('');
const outputText = (cell: FileCell) => (cell.outputs ?? []).map((output) => (Array.isArray(output.text) ? output.text.join('') : (output.text ?? ''))).join('');

describe('a notebook a person edits while the agent works', () => {
  let server: Spawned;
  let sid = '';
  let notebook = '';

  before(async () => {
    server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'warn', JLAB_MCP_SAVE_INTERVAL: '0.5' });
    const started = await call(server.client, 'start_new_session', { experiment_name: 'shared' });
    sid = String(started.structuredContent?.session_id);
    notebook = String(started.structuredContent?.notebook_path);
  });
  after(async () => {
    await server?.close();
  });

  const execute = (code: string, extra: Record<string, unknown> = {}) => call(server.client, 'execute_code', { session_id: sid, code, ...extra });

  it('their added, deleted, moved and edited cells survive the next cell; ours land after them; the agent is told', async () => {
    for (const code of ['a = 1', 'b = 2', 'c = 3\nprint(c)']) assert.equal((await execute(code)).isError, undefined);
    await humanEdit(
      notebook,
      [
        'nb.cells.insert(0, new_markdown_cell("# Notes by a person"))',
        'nb.cells.remove(cell("b = 2"))',
        'moved = cell("c = 3\\nprint(c)")',
        'nb.cells.remove(moved)',
        'nb.cells.insert(1, moved)',
        'cell("a = 1").source = "a = 100  # a person"',
      ].join('\n'),
    );
    const result = await execute('print("second call")');
    const text = textOf(result);
    assert.match(text, /second call/);
    assert.match(text, /Someone else changed shared\.ipynb on disk[\s\S]*1 cell added \(0\)[\s\S]*1 cell deleted[\s\S]*1 cell edited \(2\)[\s\S]*cells moved/);
    const cells = await cellsOf(notebook);
    assert.deepEqual(cells.map(sourceOf), ['# Notes by a person', 'c = 3\nprint(c)', 'a = 100  # a person', 'print("second call")']);
    assert.equal(outputText(cells[1]!), '3\n', 'the moved cell keeps its outputs');
    assert.equal(outputText(cells[3]!), 'second call\n', 'our output lands in our cell');
    await validateWithPython([notebook]);
  });

  it('edit_cell of the very cell they edited: theirs stays, ours with its outputs beside it, and the agent is told', async () => {
    await execute('x = 1');
    const before = await cellsOf(notebook);
    const index = before.findIndex((cell) => sourceOf(cell) === 'x = 1');
    const id = before[index]!.id;
    await humanEdit(notebook, 'cell("x = 1").source = "x = 2  # a person"');
    const result = await call(server.client, 'edit_cell', { session_id: sid, cell_index: index, code: 'x = 3\nprint("agent", x)' });
    const text = textOf(result);
    assert.match(text, /agent 3/);
    assert.match(text, new RegExp(`Conflict in cell ${index} \\(id ${id}\\)[\\s\\S]*yours, with its outputs, follows it as cell ${index + 1}`));
    const cells = await cellsOf(notebook);
    assert.equal(cells[index]!.id, id);
    assert.equal(sourceOf(cells[index]!), 'x = 2  # a person');
    assert.equal(sourceOf(cells[index + 1]!), 'x = 3\nprint("agent", x)');
    assert.notEqual(cells[index + 1]!.id, id);
    assert.equal(outputText(cells[index + 1]!), 'agent 3\n');
    await validateWithPython([notebook]);
  });

  it('read_notebook shows what the person changed (ids, types, sources, outputs) and pages through a range', async () => {
    await humanEdit(notebook, 'nb.cells.append(new_code_cell("z = \'written by a person\'"))');
    const result = await call(server.client, 'read_notebook', { session_id: sid, start: -3 });
    assert.equal(result.isError, undefined);
    const data = result.structuredContent as {
      cells: Array<{ source: string; index: number; id: string; outputs: string[]; cell_type: string }>;
      cell_count: number;
      start: number;
      next_start: number | null;
      notes: string[];
    };
    assert.equal(data.start, data.cell_count - 3);
    assert.equal(data.next_start, null);
    assert.equal(data.cells.at(-1)?.source, "z = 'written by a person'");
    assert.equal(data.cells.at(-2)?.outputs[0], 'stdout: agent 3 (1 lines)');
    assert.match(data.notes.join('\n'), /Someone else changed[\s\S]*1 cell added/);
    const page = (await call(server.client, 'read_notebook', { notebook_path: path.basename(notebook), limit: 2 })).structuredContent as typeof data;
    assert.deepEqual(
      page.cells.map((cell) => cell.index),
      [0, 1],
    );
    assert.equal(page.next_start, 2);
    assert.equal(page.cells[0]!.cell_type, 'markdown');
    assert.deepEqual(page.notes, [], 'merged once, told once');
  });

  it('read_notebook reads a notebook no session has open; bad arguments are clear errors', async () => {
    const other = path.join(server.notebookDir, 'by_hand.ipynb');
    await run('/usr/bin/python3', [
      '-c',
      'import nbformat, sys; from nbformat.v4 import new_notebook, new_code_cell; nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), sys.argv[1])',
      other,
    ]);
    const data = (await call(server.client, 'read_notebook', { notebook_path: 'by_hand.ipynb' })).structuredContent as {
      session_id: null;
      cells: Array<{ source: string }>;
    };
    assert.equal(data.session_id, null);
    assert.equal(data.cells[0]?.source, '1 + 1');
    const neither = await call(server.client, 'read_notebook', {});
    assert.equal(neither.isError, true);
    assert.match(textOf(neither), /INVALID_ARGUMENT[\s\S]*session_id or notebook_path/);
    const outside = await call(server.client, 'read_notebook', { notebook_path: '../outside.ipynb' });
    assert.match(textOf(outside), /PATH_OUTSIDE_NOTEBOOK_DIR/);
  });

  it('a long cell saving its output every half second while a person edits another cell: both survive', async () => {
    const code = 'import time\nfor i in range(20):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.4)';
    const first = await execute(code, { timeout: 1.5 });
    assert.match(textOf(first), /still running/);
    await humanEdit(notebook, 'cell("a = 100  # a person").source = "a = 200  # edited during the run"');
    // A save of the running cell after the edit keeps the edit (merged, not overwritten).
    let cells = await cellsOf(notebook);
    const ticksNow = outputText(cells.find((cell) => sourceOf(cell) === code) ?? cells[0]!).length;
    await waitUntil(
      'a save of the running cell after the edit',
      async () => {
        cells = await cellsOf(notebook).catch(() => cells); // nbformat.write is not atomic: retry a torn read
        const ours = cells.find((cell) => sourceOf(cell) === code);
        return ours !== undefined && outputText(ours).length > ticksNow;
      },
      { timeoutMs: 20_000 },
    );
    assert.ok(
      cells.some((cell) => sourceOf(cell) === 'a = 200  # edited during the run'),
      'the edit survived a save of the running cell',
    );
    const look = textOf(await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 0 }));
    assert.match(look, /Someone else changed shared\.ipynb on disk[\s\S]*1 cell edited[\s\S]*still running/, 'told while the cell still runs');
    const rest = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
    assert.match(textOf(rest), /tick 19/);
    assert.doesNotMatch(textOf(rest), /Someone else changed/, 'told once');
    cells = await cellsOf(notebook);
    assert.ok(cells.some((cell) => sourceOf(cell) === 'a = 200  # edited during the run'));
    const ours = cells.find((cell) => sourceOf(cell) === code)!;
    assert.equal(outputText(ours), Array.from({ length: 20 }, (_, i) => `tick ${i}\n`).join(''));
    assert.equal(ours.metadata.jlab_mcp, undefined, 'the running mark is gone');
    await validateWithPython([notebook]);
  });

  it('a file broken on disk is not overwritten: the session saves aside and says so', async () => {
    await notebookSettled(notebook);
    const good = await readFile(notebook, 'utf8');
    await writeFile(notebook, '{"cells": [');
    const result = await execute('print("while broken")');
    assert.match(textOf(result), /while broken[\s\S]*not a notebook jlab-mcp can read now[\s\S]*shared\.jlab-mcp-unmerged\.ipynb/);
    assert.equal(await readFile(notebook, 'utf8'), '{"cells": [');
    const aside = path.join(path.dirname(notebook), 'shared.jlab-mcp-unmerged.ipynb');
    assert.ok((await cellsOf(aside)).some((cell) => outputText(cell) === 'while broken\n'));
    await validateWithPython([aside]);
    await writeFile(notebook, good);
    const repaired = await execute('print("repaired")');
    assert.match(textOf(repaired), /valid notebook again/);
    const cells = await cellsOf(notebook);
    assert.ok(cells.some((cell) => outputText(cell) === 'while broken\n') && cells.some((cell) => outputText(cell) === 'repaired\n'));
    await validateWithPython([notebook]);
  });

  it('a copy opened some saves ago and saved over the file (JupyterLab "Overwrite") keeps their edit and the agent\'s newer cells and outputs', async () => {
    const copy = path.join(await mkdtemp(path.join(os.tmpdir(), 'jlab-opened-')), 'opened.ipynb');
    await notebookSettled(notebook);
    await writeFile(copy, await readFile(notebook, 'utf8')); // what their editor loaded
    const revision = (await readNotebook<{ metadata: { jlab_mcp: { revision: number } } }>(copy)).metadata.jlab_mcp.revision;
    assert.ok(Number.isInteger(revision), 'every save stamps a revision');
    for (const code of ['print("newer one")', 'print("newer two")']) assert.equal((await execute(code)).isError, undefined);
    const save = [
      'import sys, nbformat',
      'nb = nbformat.read(sys.argv[1], as_version=4)',
      'next(c for c in nb.cells if c.source == "x = 2  # a person").source = "x = 5  # edited in the old copy"',
      'nbformat.write(nb, sys.argv[2])',
    ].join('\n');
    await run('/usr/bin/python3', ['-c', save, copy, notebook]);
    const onDisk = await readNotebook<{ metadata: { jlab_mcp?: { revision?: number } } }>(notebook);
    assert.equal(onDisk.metadata.jlab_mcp?.revision, revision, 'nbformat keeps the stamp');
    // A markdown reply tells of the merge its save made (not only the next cell result).
    const added = await call(server.client, 'add_markdown', { session_id: sid, markdown: '## After the overwrite' });
    const notes = (added.structuredContent as { notes?: string[] }).notes ?? [];
    assert.match(notes.join('\n'), /Someone else changed shared\.ipynb on disk while this session worked: 1 cell edited \(\d+\)\. /);
    assert.match(textOf(added), /Someone else changed/);
    assert.doesNotMatch(notes.join('\n'), /deleted|Conflict/);
    const cells = await cellsOf(notebook);
    assert.ok(
      cells.some((cell) => sourceOf(cell) === 'x = 5  # edited in the old copy'),
      'their edit',
    );
    for (const text of ['newer one', 'newer two']) {
      const ours = cells.find((cell) => sourceOf(cell) === `print("${text}")`);
      assert.equal(ours && outputText(ours), `${text}\n`, `the agent's cell "${text}" with its output`);
    }
    assert.ok(
      cells.some((cell) => sourceOf(cell) === 'a = 200  # edited during the run'),
      'an earlier edit of theirs is not reverted',
    );
    assert.equal(sourceOf(cells.at(-1)!), '## After the overwrite');
    const plain = await call(server.client, 'add_markdown', { session_id: sid, markdown: 'no edits meanwhile' });
    assert.equal((plain.structuredContent as { notes?: string[] }).notes, undefined, 'told once; no notes field without news');
    await validateWithPython([notebook]);
  });
});
