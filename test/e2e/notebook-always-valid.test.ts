import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { journalPath } from '../../src/notebook/journal.js';
import { call, missingBuildReason, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { ProcessTree } from '../helpers/processTree.js';
import { NotebookDocument } from '../../src/notebook/document.js';
import { readFileCellsOnly } from '../helpers/notebookFile.js';

/**
 * A figure whose PNG is ~0.75 MB (noise does not compress): after the first the file is written
 * asynchronously, after the fifth a save goes to the journal and the file follows within 3 s.
 */
const FIGURE_CELL = 'import matplotlib.pyplot as plt, numpy as np\nplt.figure(dpi=140)\nplt.imshow(np.random.rand(800, 800))\nplt.show()';
const FIGURES = 8;

/**
 * Reads the notebook as fast as it can until the stop file appears: every read must parse and
 * pass nbformat.validate, and the cell count may never go down (no older file after a newer).
 */
const READER = `
import json, os, sys, nbformat
path, stop = sys.argv[1], sys.argv[2]
reads, problems, most = 0, [], 0
while not os.path.exists(stop) or reads == 0:
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        problems.append('the file was missing'); continue
    reads += 1
    try:
        nb = nbformat.reads(data.decode('utf-8'), as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
    except Exception as error:
        problems.append(f'read {reads} ({len(data)} bytes): {type(error).__name__}: {str(error)[:200]}'); continue
    if len(nb.cells) < most: problems.append(f'read {reads}: {len(nb.cells)} cells after {most}')
    most = max(most, len(nb.cells))
print(json.dumps({'reads': reads, 'problems': problems[:5], 'cells': most}))
`;

describe('the notebook on disk while figures run (built binary, real Jupyter, Python nbformat)', { skip: missingBuildReason(), timeout: 300_000 }, () => {
  let server: Spawned;
  before(async () => {
    server = await spawnServer();
  });
  after(async () => {
    await server?.close();
  });

  it('is valid at every read, and holds each cell when its reply arrives', async () => {
    const started = await call(server.client, 'start_new_session', { experiment_name: 'always valid' });
    assert.ok(!started.isError, textOf(started));
    const sid = String(started.structuredContent?.session_id);
    const notebook = path.resolve(server.notebookDir, String(started.structuredContent?.notebook_path));
    const stop = path.join(server.notebookDir, 'stop-reading');
    const reader = spawn('/usr/bin/python3', ['-c', READER, notebook, stop], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    reader.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    reader.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => reader.on('close', resolve));
    try {
      for (let i = 0; i < FIGURES; i++) {
        for (const code of [FIGURE_CELL, '1+1']) {
          const result = await call(server.client, 'execute_code', { session_id: sid, code });
          assert.ok(!result.isError && / · ok · /.test(textOf(result)), textOf(result));
          // What the agent was just shown is in the file or its journal: an open after a crash now would see it.
          const id = (result.structuredContent?.cell as { id?: string } | undefined)?.id;
          const cell = (await NotebookDocument.load(notebook)).cells.find((each) => each.id === id);
          assert.ok(cell?.cell_type === 'code', `cell ${id} is on disk when its reply arrives`);
          if (code === FIGURE_CELL)
            assert.ok(
              cell.outputs.some((output) => (output.data as Record<string, unknown> | undefined)?.['image/png']),
              `cell ${id} has its figure on disk`,
            );
        }
      }
      // The file itself follows the journal within the save interval (3 s), without another call.
      const lastReply = Date.now();
      while ((await readFileCellsOnly(notebook)).length < FIGURES * 2) {
        assert.ok(Date.now() - lastReply < 3000 + 2000, 'the file holds every cell within the save interval');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await writeFile(stop, '');
    }
    assert.equal(await exited, 0, err);
    const seen = JSON.parse(out) as { reads: number; problems: string[]; cells: number };
    assert.deepEqual(seen.problems, [], `invalid or older files seen in ${seen.reads} reads`);
    assert.ok(seen.reads >= FIGURES, `the reader read the file ${seen.reads} times`);
    assert.equal(seen.cells, FIGURES * 2);
    await rm(stop);
  });

  it('loses nothing the agent was shown when jlab-mcp is killed right after a reply: the next open applies the journal', async () => {
    // A long save interval: the file is not rewritten before the kill, so only the journal has the last cells.
    const first = await spawnServer({ JLAB_MCP_SAVE_INTERVAL: '120' });
    const tree = new ProcessTree([first.pid()!]);
    let next: Spawned | undefined;
    try {
      const started = await call(first.client, 'start_new_session', { experiment_name: 'killed after a reply' });
      const sid = String(started.structuredContent?.session_id);
      const notebookPath = String(started.structuredContent?.notebook_path);
      const notebook = path.resolve(first.notebookDir, notebookPath);
      const shown: string[] = [];
      for (const code of [...Array<string>(6).fill(FIGURE_CELL), '1+1']) {
        const result = await call(first.client, 'execute_code', { session_id: sid, code });
        assert.ok(!result.isError, textOf(result));
        shown.push(String((result.structuredContent?.cell as { id?: string } | undefined)?.id));
      }
      assert.ok(existsSync(journalPath(notebook)), 'the last saves went to the journal');
      const inFile = new Set((await readFileCellsOnly(notebook)).map((cell) => cell.id));
      assert.ok(!inFile.has(shown.at(-1)!), 'the file itself lacks the last cell (else this test shows nothing)');
      process.kill(first.pid()!, 'SIGKILL');
      assert.deepEqual(await waitUntilGone([first.pid()!], 10_000), []);
      next = await spawnServer({}, first.notebookDir);
      const read = await call(next.client, 'read_notebook', { notebook_path: notebookPath });
      assert.ok(!read.isError, textOf(read));
      const ids = ((read.structuredContent?.cells ?? []) as Array<{ id: string }>).map((cell) => cell.id);
      assert.deepEqual(ids, shown, 'every cell the agent was shown, in order');
      await call(next.client, 'shutdown_session', { session_id: sid });
    } finally {
      await next?.close();
      await first.close().catch(() => {});
    }
    const left = await tree.waitAllGone(25_000);
    tree.stop();
    assert.deepEqual(
      left.map((p) => `${p.pid} ${p.command}`),
      [],
      'processes left behind',
    );
  });
});
