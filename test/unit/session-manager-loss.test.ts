// What SessionManager does when a server or a kernel's websocket goes away, on fake kernels: a
// lost server is told to every session on it (running cell ended, queue withdrawn, registry
// told); a websocket that will not come back is given up after a bound; a session from before a
// restart whose kernel is gone answers with the resume call; the walltime move to a new kernel.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NotebookDocument } from '../../src/notebook/document.js';
import type { SessionRecord } from '../../src/state/records.js';
import { JlabError } from '../../src/util/errors.js';
import { FakeKernel, gate } from '../helpers/fakeKernel.js';
import { managerOnFakeKernels } from '../helpers/managerFixture.js';
import { waitUntil } from '../helpers/poll.js';

/** A saved notebook in `dir` with one code cell; returns its path and the cell's id. */
async function notebookWithCell(dir: string, code: string): Promise<{ file: string; cellId: string }> {
  await mkdir(dir, { recursive: true });
  const notebook = NotebookDocument.create(path.join(dir, 'earlier.ipynb'), { name: 'python3', display_name: 'Python 3', language: 'python' });
  const cell = notebook.newCodeCell(code);
  notebook.insert(cell, 0);
  await notebook.save();
  return { file: notebook.path, cellId: cell.id };
}

function recordOf(file: string, kernelId: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  return { id: 'before01', notebookPath: file, experimentName: 'earlier', profile: 'default', kernelId, kernelName: 'python3', ...extra };
}

describe('SessionManager loss', () => {
  it('tells every session on a lost server: running cells end, queues are withdrawn, the registry forgets them', async (t) => {
    const { manager, server, registry } = await managerOnFakeKernels(t, { registry: true });
    const busy = await manager.startNew('busy');
    const idle = await manager.startNew('idle');
    const slow = gate();
    busy.kernel.on('slow()', slow.script);
    const running = busy.executeCode('slow()');
    const queued = busy.executeCode('later()');
    await slow.started;

    server.lose('SLURM job 42 ended');
    for (const session of [busy, idle]) {
      assert.equal(session.lost, 'the Jupyter server was lost (SLURM job 42 ended).');
      assert.equal(session.kernel.abandoned, true);
    }
    assert.equal(queued.withdrawn, 'the Jupyter server was lost');
    assert.equal((await busy.settle(running))?.status, 'server_lost');
    assert.deepEqual(registry?.sessions, {});
    assert.equal(await manager.use(busy.id), busy, 'the lost session is still found, to say what happened');
    assert.throws(
      () => busy.executeCode('x = 1'),
      (error: unknown) => error instanceof JlabError && error.code === 'SERVER_LOST',
    );
  });

  it('leaves the sessions on another profile’s server alone when one server is lost', async (t) => {
    const { manager, serverOf } = await managerOnFakeKernels(t, { profiles: ['gpu'] });
    const onDefault = await manager.startNew('cpu work');
    const onGpu = await manager.startNew('gpu work', undefined, 'gpu');
    serverOf('gpu').lose('SLURM job 43 ended');
    assert.equal(onGpu.lost, 'the Jupyter server was lost (SLURM job 43 ended).');
    assert.equal(onDefault.lost, undefined);
    assert.equal(onDefault.kernel.abandoned, false);
    assert.equal((await onDefault.settle(onDefault.executeCode('x = 1')))?.status, 'ok');
  });

  it('gives a session up as lost when its websocket does not come back, though the server answers', async (t) => {
    const { manager, server } = await managerOnFakeKernels(t, { manager: { reconnectCheckMs: 5, reconnectGiveUpMs: 60 } });
    const session = await manager.startNew('exp');
    const slow = gate();
    session.kernel.on('slow()', slow.script);
    const running = session.executeCode('slow()');
    await slow.started;

    session.kernel.dropWebsocket();
    const reason = await waitUntil('the session given up', () => session.lost, { timeoutMs: 5000, intervalMs: 5 });
    assert.match(reason, /websocket could not reconnect for 0\.06 s/);
    assert.ok(server.lostChecks > 0, 'the backend was asked whether the server is gone');
    assert.equal((await session.settle(running))?.status, 'server_lost');
  });

  it('marks the server lost when the backend says so while a websocket reconnects', async (t) => {
    const { manager, server } = await managerOnFakeKernels(t, { manager: { reconnectCheckMs: 5, reconnectGiveUpMs: 60_000 } });
    const session = await manager.startNew('exp');
    server.lostReason = 'SLURM job 42 is COMPLETED';
    session.kernel.dropWebsocket();
    const reason = await waitUntil('the session lost with its server', () => session.lost, { timeoutMs: 5000, intervalMs: 5 });
    assert.equal(reason, 'the Jupyter server was lost (SLURM job 42 is COMPLETED).');
  });

  it('answers a session from before a restart whose kernel is gone with SERVER_LOST and the resume call', async (t) => {
    const { manager, dir } = await managerOnFakeKernels(t);
    const { file } = await notebookWithCell(dir, 'x = 1');
    const adopted = await manager.adopt(recordOf(file, 'culled-kernel'), manager.servers.get());
    assert.equal(adopted, undefined);
    assert.throws(
      () => manager.get('before01'),
      (error: unknown) =>
        error instanceof JlabError &&
        error.code === 'SERVER_LOST' &&
        /kernel culled-kernel no longer exists/.test(error.message) &&
        error.hint?.includes(`start_session_resume_notebook(notebook_path="${file}"`) === true,
    );
    assert.deepEqual(
      manager.listGone().map((gone) => gone.session_id),
      ['before01'],
    );
    assert.deepEqual(manager.list(), []);
  });

  it('adopts a live kernel from before a restart under the same id and follows the cell it was running', async (t) => {
    const { manager, kernels, dir } = await managerOnFakeKernels(t);
    const { file, cellId } = await notebookWithCell(dir, 'train()');
    const spoolPath = path.join(dir, 'earlier.spool.jsonl');
    const kernel = new FakeKernel({ id: 'kept-kernel' });
    kernel.setSpoolPath(spoolPath);
    const held = gate();
    kernel.on('train()', held.script);
    const { msg } = kernel.requestExecute('train()');
    const run = await held.started;
    run.stream('epoch 1\n'); // while no jlab-mcp was attached: only in the spool
    kernels.onServer.set(kernel.id, kernel);

    const running = { msgId: msg.header.msg_id, cellId, startedAt: new Date().toISOString() };
    const session = await manager.adopt(recordOf(file, kernel.id, { running, spoolPath }), manager.servers.get());
    assert.equal(session?.id, 'before01');
    assert.equal(session?.kernel, kernel);
    assert.equal(manager.get('before01'), session);
    const followed = session?.current;
    assert.ok(followed, 'the running cell is followed');
    run.stream('epoch 2\n');
    held.release();
    const outcome = await session?.settle(followed);
    assert.equal(outcome?.status, 'ok');
    assert.deepEqual(
      outcome?.outputs.map((output) => output.text),
      ['epoch 1\nepoch 2\n'],
    );
    assert.equal(kernel.spoolPath, spoolPath, 'the kernel goes on spooling where the record says');
  });

  it('moves a session to a new kernel (walltime move) and records the new kernel’s environment', async (t) => {
    const { manager, kernels } = await managerOnFakeKernels(t);
    const session = await manager.startNew('exp');
    const old = await manager.moveSession(session, manager.servers.get());
    assert.equal(old, kernels.started[0]);
    assert.equal(session.kernel, kernels.started[1]);
    assert.equal(session.kernel.spoolPath, old.spoolPath, 'the new kernel spools where the old one did');
    assert.deepEqual(
      kernels.environments.map((each) => [each.kernelId, each.again]),
      [
        [old.id, false],
        [session.kernel.id, true],
      ],
    );
  });
});
