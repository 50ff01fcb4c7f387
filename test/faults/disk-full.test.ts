import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { fillUntil, mountTmpfs, TMPFS_SKIP, type Tmpfs } from '../helpers/tmpfs.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { notebookSettled, readNotebook } from '../helpers/notebookFile.js';

/** A cell whose source alone (~30 KB) needs more than the one free page the full disk keeps. */
const BULKY_CELL = `padding = """${'p'.repeat(30_000)}"""\nprint("written-while-full")`;

describe('disk full under the notebook directory (a 2 MB tmpfs)', { skip: TMPFS_SKIP }, () => {
  let disk: Tmpfs | undefined;
  let server: Spawned | undefined;
  let sessionId = '';
  let notebook = '';
  let filler = '';
  const pids: number[] = [];
  /** What the agent was shown, cell by cell: all of it must end up in the notebook. */
  const shown: Array<{ code: string; output: string }> = [];

  async function runCell(code: string, output: string): Promise<string> {
    const reply = await call(server!.client, 'execute_code', { session_id: sessionId, code });
    assert.notEqual(reply.isError, true, textOf(reply));
    const text = textOf(reply);
    assert.ok(text.startsWith(`${output}\n`), `the reply carries the cell's output: ${text}`);
    shown.push({ code, output });
    return text;
  }

  before(async () => {
    disk = await mountTmpfs('2m');
    server = await spawnServer({}, disk.dir);
    const started = await call(server.client, 'start_new_session', { experiment_name: 'full' });
    assert.notEqual(started.isError, true, textOf(started));
    sessionId = String(started.structuredContent?.session_id);
    notebook = String(started.structuredContent?.notebook_path);
    assert.equal(path.dirname(notebook), disk.dir);
    const code = 'import os; print(os.getpid())';
    const pidReply = await call(server.client, 'execute_code', { session_id: sessionId, code });
    const kernelPid = Number.parseInt(textOf(pidReply), 10);
    assert.ok(Number.isInteger(kernelPid), textOf(pidReply));
    shown.push({ code, output: String(kernelPid) });
    const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
    const jupyterPid = JSON.parse(String((status.contents[0] as { text: string }).text)).server.backend.pid as number;
    pids.push(kernelPid, jupyterPid);
  });

  after(async () => {
    await server?.close().catch(() => {});
    // The kernel's working directory is on the tmpfs: it must be gone before the unmount.
    const left = await waitUntilGone(pids, 20_000);
    await disk?.unmount();
    assert.deepEqual(left, [], `still running after the server closed: ${left.join(', ')}`);
  });

  it('[fault] disk full while saving a cell → the reply has the output and says "disk full" with the path; the file stays the previous valid version, no temp file', async () => {
    await runCell('x = 6 * 7\nprint(x)', '42');
    await runCell('print("second")', 'second');
    await notebookSettled(notebook);
    const before = await readFile(notebook);
    filler = await fillUntil(disk!.dir, 4096);

    // 4 KiB free and ~30 KiB to write: the first write() is short and the next one fails.
    const text = await runCell(BULKY_CELL, 'written-while-full');
    assert.match(text, /Warning: the notebook could not be saved/);
    assert.ok(text.includes(`Could not write ${notebook}: disk full; the previous version of the file (if any) is intact.`), text);
    assert.match(text, /the next save that succeeds writes them/);

    assert.deepEqual(await readFile(notebook), before, 'the notebook on disk is byte-for-byte the previous version');
    await validateWithPython([notebook]);
    assert.deepEqual(await tempFiles(disk!.dir), [], 'no temp file is left');
  });

  it('[fault] space freed after a disk-full save → the next cell saves, and the notebook holds every cell the agent was shown', async () => {
    assert.ok(filler, 'runs after the disk-full test');
    await rm(filler);
    const text = await runCell('print("after-free")', 'after-free');
    assert.doesNotMatch(text, /could not be saved/);

    await validateWithPython([notebook]);
    const saved = await readNotebook<{ cells: Array<{ cell_type: string; source: string[]; outputs?: Array<{ text?: string[] }> }> }>(notebook);
    const cells = saved.cells.filter((cell) => cell.cell_type === 'code');
    assert.deepEqual(
      cells.map((cell) => ({
        code: cell.source.join(''),
        output: (cell.outputs ?? [])
          .flatMap((o) => o.text ?? [])
          .join('')
          .trimEnd(),
      })),
      shown,
    );
    assert.deepEqual(await tempFiles(disk!.dir), [], 'no temp file is left');
  });
});

/** Temp files an atomic write could leave behind (`.<name>.<hex>.tmp`); the kernel's spool and the environment records are expected. */
async function tempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
}
