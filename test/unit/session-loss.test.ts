// What a session does when its kernel dies or its server goes away, on a scripted fake kernel:
// the running cell ends with a note, queued cells are withdrawn, later calls get a clear error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JlabError } from '../../src/util/errors.js';
import { gate } from '../helpers/fakeKernel.js';
import { sessionOnFakeKernel } from '../helpers/sessionFixture.js';

describe('session loss', () => {
  it('ends a cell whose kernel died (and was restarted by the server) as kernel_died, and goes on', async (t) => {
    const { session, kernel, readBack } = await sessionOnFakeKernel(t);
    const doomed = gate();
    kernel.on('doomed', doomed.script);
    const ticket = session.executeCode('doomed');
    const run = await doomed.started;
    run.stream('before the crash\n');
    kernel.die();
    const outcome = await session.settle(ticket);
    assert.equal(outcome?.status, 'kernel_died');
    assert.deepEqual(
      outcome?.outputs.map((output) => output.ename ?? output.text),
      ['before the crash\n', 'KernelDied'],
    );
    const cell = (await readBack()).cells[0]!;
    assert.equal(cell.metadata.jlab_mcp, undefined, 'no running mark left behind');
    assert.equal((await session.settle(session.executeCode('x')))?.status, 'ok', 'the restarted kernel takes the next cell');
  });

  it('refuses work once the kernel is dead for good', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.dieForGood();
    assert.throws(
      () => session.executeCode('x'),
      (error: unknown) => error instanceof JlabError && error.code === 'KERNEL_DIED' && /start_session_resume_notebook/.test(error.hint ?? ''),
    );
  });

  it('says the kernel is gone when the server no longer has it', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const ticket = session.executeCode('slow');
    await slow.started;
    kernel.gone = true;
    kernel.dieForGood();
    const outcome = await session.settle(ticket);
    assert.equal(outcome?.outputs.at(-1)?.ename, 'KernelGone');
    assert.throws(() => session.executeCode('x'), /no longer exists on the Jupyter server/);
  });

  it('on server loss withdraws the queue, ends the running cell as server_lost and refuses more', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    const queued = session.executeCode('queued');
    await slow.started;
    session.markLost('the Jupyter server was lost (test).');
    assert.equal(kernel.abandoned, true);
    assert.equal(queued.withdrawn, 'the Jupyter server was lost');
    const outcome = await session.settle(running);
    assert.equal(outcome?.status, 'server_lost');
    assert.equal(outcome?.outputs.at(-1)?.ename, 'ServerLost');
    assert.equal(session.lost, 'the Jupyter server was lost (test).');
    assert.throws(
      () => session.executeCode('x'),
      (error: unknown) => error instanceof JlabError && error.code === 'SERVER_LOST' && error.hint?.includes(notebook.path) === true,
    );
    await assert.rejects(session.addMarkdown('# note'), (error: unknown) => error instanceof JlabError && error.code === 'SERVER_LOST');
  });

  it('ends a running cell as server_lost when the websocket drops', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    await slow.started;
    kernel.loseServer();
    assert.equal((await session.settle(running))?.status, 'server_lost');
  });

  it('close() records the running cell as shut down, shuts the kernel and refuses more', async (t) => {
    const { session, kernel, readBack } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    const queued = session.executeCode('queued');
    await slow.started;
    await session.close();
    assert.equal(kernel.shutDown, true);
    assert.equal(queued.withdrawn, 'the session was shut down');
    const outcome = await session.settle(running);
    assert.equal(outcome?.outputs.at(-1)?.ename, 'SessionShutDown');
    const onDisk = await readBack();
    assert.deepEqual(
      onDisk.cells.map((cell) => [cell.cell_type === 'code' && cell.outputs.at(-1)?.ename, cell.metadata.jlab_mcp]),
      [['SessionShutDown', undefined]],
      'the notebook is written with the ending',
    );
    assert.throws(() => session.executeCode('x'), /shutting down/);
  });

  it('detach() lets the running cell go on and records it for the next jlab-mcp', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    const queued = session.executeCode('queued');
    await slow.started;
    const recorded: Array<{ msgId: string; cellId: string } | undefined> = [];
    session.onRunning = (mark) => recorded.push(mark && { msgId: mark.msgId, cellId: mark.cellId });
    await session.detach();
    assert.equal(kernel.shutDown, false);
    assert.equal(queued.withdrawn, 'jlab-mcp exited before it ran');
    assert.deepEqual(recorded, [{ msgId: kernel.requests[0]!.msgId, cellId: running.run!.cell.id }]);
    assert.equal(running.run?.finished, false);
    slow.release();
    assert.equal((await session.settle(running))?.status, 'ok');
  });
});
