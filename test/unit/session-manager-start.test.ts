// Starting sessions with SessionManager on fake kernels: the notebooks start_new_session, resume
// and continue write; the kernel a notebook names; an unknown kernel name answered with the
// server's kernels; no kernel left behind when the first save fails; one writer per notebook.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NotebookDocument } from '../../src/notebook/document.js';
import type { NotebookContent } from '../../src/notebook/types.js';
import { spoolPathFor } from '../../src/sessions/registrySync.js';
import { JlabError } from '../../src/util/errors.js';
import { managerOnFakeKernels } from '../helpers/managerFixture.js';

const REPLAY = { cellTimeoutMs: 5000, stopOnError: true };

const isCode = (code: string, text?: RegExp) => (error: unknown) => error instanceof JlabError && error.code === code && (!text || text.test(error.message));

async function readNotebook(file: string): Promise<NotebookContent> {
  return JSON.parse(await readFile(file, 'utf8')) as NotebookContent;
}

/** A cell's source as one string (the file may hold it as a list of lines). */
const sourceOf = (cell: { source: string | string[] }) => [cell.source].flat().join('');

/** A notebook file in `dir` with these code cells, saved for kernel `kernelName`. */
async function notebookFile(dir: string, name: string, kernelName: string, ...sources: string[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const notebook = NotebookDocument.create(path.join(dir, name), { name: kernelName, display_name: `old ${kernelName}`, language: 'python' });
  for (const source of sources) notebook.insert(notebook.newCodeCell(source), notebook.cells.length);
  await notebook.save();
  return notebook.path;
}

describe('SessionManager starts', () => {
  it('start_new_session writes a new notebook for the kernel it started, and a second one beside it', async (t) => {
    const { manager, kernels, dir } = await managerOnFakeKernels(t);
    const session = await manager.startNew('scan');
    const kernel = kernels.started[0]!;
    assert.equal(session.kernel, kernel);
    assert.equal(session.notebookPath, path.join(dir, 'scan.ipynb'));
    const written = await readNotebook(session.notebookPath);
    assert.deepEqual(written.metadata.kernelspec, { name: 'python3', display_name: 'python3 (fake)', language: 'python' });
    assert.equal(written.metadata.language_info?.name, 'python');
    assert.deepEqual(written.cells, []);
    assert.equal(kernel.spoolPath, spoolPathFor(session.notebookPath));
    assert.deepEqual(kernels.environments, [{ sessionId: session.id, kernelId: kernel.id, again: false }]);

    const second = await manager.startNew('scan');
    assert.notEqual(second.notebookPath, session.notebookPath, 'an existing notebook is never overwritten');
    assert.equal(path.dirname(second.notebookPath), dir);
    assert.deepEqual(manager.list(), [session, second]);
  });

  it('resume starts the kernel the notebook names, records it, and replays its code cells', async (t) => {
    const { manager, kernels, dir } = await managerOnFakeKernels(t);
    kernels.kernelNames = ['python3', 'py311'];
    const file = await notebookFile(dir, 'old.ipynb', 'py311', 'a = 1', 'print(a)');
    const { session, replay } = await manager.resume('old', file, undefined, REPLAY);
    await replay.done;
    assert.equal(session.kernel.spec.name, 'py311');
    assert.deepEqual(
      session.kernel.requests.map((request) => request.code),
      ['a = 1', 'print(a)'],
    );
    await session.notebook.flush();
    const written = await readNotebook(file);
    assert.equal(written.metadata.kernelspec?.display_name, 'py311 (fake)', "the new kernel's spec is on record");
    assert.deepEqual(
      written.cells.map((cell) => [sourceOf(cell), cell.cell_type === 'code' ? cell.execution_count : undefined]),
      [
        ['a = 1', 1],
        ['print(a)', 2],
      ],
    );
  });

  it('continue copies the notebook to a new file with a fresh kernel, runs nothing and leaves the original as it was', async (t) => {
    const { manager, kernels, dir } = await managerOnFakeKernels(t);
    const file = await notebookFile(dir, 'base.ipynb', 'python3', 'x = 2');
    const before = await readFile(file, 'utf8');
    const { session, original } = await manager.continueFrom('fork', file);
    assert.equal(original, file);
    assert.equal(session.notebookPath, path.join(dir, 'base_continued.ipynb'));
    assert.deepEqual((await readNotebook(session.notebookPath)).cells.map(sourceOf), ['x = 2']);
    assert.equal(await readFile(file, 'utf8'), before);
    assert.deepEqual(kernels.started[0]!.requests, []);
  });

  it('answers an unknown kernel name with the kernels the server has', async (t) => {
    const { manager, kernels } = await managerOnFakeKernels(t);
    kernels.kernelNames = ['python3', 'ir'];
    await assert.rejects(
      manager.startNew('exp', 'julia-1.10'),
      (error: unknown) =>
        isCode('KERNEL_START_FAILED', /No kernel named "julia-1.10"/)(error) && /Available kernels: python3, ir/.test((error as JlabError).hint ?? ''),
    );
    assert.deepEqual(manager.list(), []);
  });

  it('shuts the kernel down again when the first save of the new notebook fails (no orphan kernel)', async (t) => {
    const { manager, kernels, dir } = await managerOnFakeKernels(t);
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, 'a file where the notebook directory should be');
    await assert.rejects(manager.startNew('exp'), /EEXIST|ENOTDIR/);
    assert.equal(kernels.started.length, 1);
    assert.equal(kernels.started[0]!.shutDown, true);
    assert.deepEqual(manager.list(), []);
  });

  it('refuses a second start on a notebook another start is opening (NOTEBOOK_BUSY)', async (t) => {
    const { manager, kernels, dir } = await managerOnFakeKernels(t);
    const file = await notebookFile(dir, 'one.ipynb', 'python3', 'a = 1');
    let release!: () => void;
    kernels.hold = new Promise((resolve) => (release = resolve));
    const arrived = kernels.nextStart();
    const first = manager.resume('one', file, undefined, REPLAY);
    await arrived;
    // A second start let through would reach the (held) kernel starter and wait there for ever.
    const secondStart = kernels.nextStart().then(() => {
      throw new Error('the second start call went on to start a kernel');
    });
    await assert.rejects(
      Promise.race([manager.resume('one again', file, undefined, REPLAY), secondStart]),
      isCode('NOTEBOOK_BUSY', /already being opened by another start call/),
    );
    release();
    const { session } = await first;
    assert.equal(kernels.started.length, 1, 'the refused call started no kernel');
    assert.deepEqual(manager.list(), [session]);
  });

  it('refuses a start on a notebook open in a session, and takes it over once that session is lost', async (t) => {
    const { manager, dir } = await managerOnFakeKernels(t);
    const file = await notebookFile(dir, 'open.ipynb', 'python3', 'a = 1');
    const { session, replay } = await manager.resume('open', file, undefined, REPLAY);
    await replay.done;
    await assert.rejects(manager.resume('open', file, undefined, REPLAY), (error: unknown) =>
      isCode('NOTEBOOK_BUSY', new RegExp(`already open in session ${session.id}`))(error),
    );
    session.markLost('the Jupyter server was lost (test).');
    const { session: again } = await manager.resume('open', file, undefined, REPLAY);
    assert.notEqual(again.id, session.id);
    assert.deepEqual(manager.list(), [again]);
  });
});
