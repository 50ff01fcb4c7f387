// The walltime move as Session sees it (SessionManager.moveSession and migrate.ts do the SLURM
// part): a fresh kernel on another server, same id and notebook, the notebook replayed there,
// and a cell still running on the old kernel left to end there first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerSupervisor } from '../../src/sessions/serverSupervisor.js';
import { FakeKernel, gate } from '../helpers/fakeKernel.js';
import { idleBackend, sessionOnFakeKernel } from '../helpers/sessionFixture.js';

describe('session move to a new kernel', () => {
  it('keeps a running cell on the old kernel, replays the notebook on the new one, then takes new cells there', async (t) => {
    const { session, kernel: oldKernel } = await sessionOnFakeKernel(t);
    await session.settle(session.executeCode('x = 1'));
    const slow = gate();
    oldKernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    await slow.started;
    const newKernel = new FakeKernel();
    const newServer = new ServerSupervisor(idleBackend(), 'unit test', 'next-job');
    const returned = session.moveTo(newKernel, newServer);
    assert.equal(returned, oldKernel, 'the old kernel goes back to the caller, to be let go');
    assert.equal(session.kernel, newKernel);
    assert.equal(session.supervisor, newServer);
    assert.equal(session.id, 's1');
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: false });
    slow.release();
    assert.equal((await session.settle(running))?.status, 'ok', 'the cell ends on the kernel it started on');
    await replay.done;
    assert.deepEqual(
      newKernel.requests.map((request) => request.code),
      ['x = 1', 'slow'],
      'the whole notebook is replayed on the new kernel, after the old cell ended',
    );
    await session.settle(session.executeCode('y = 2'));
    assert.deepEqual(
      oldKernel.requests.map((request) => request.code),
      ['x = 1', 'slow'],
    );
    assert.equal(newKernel.requests.at(-1)?.code, 'y = 2');
  });

  it('refuses a move once the session was lost', async (t) => {
    const { session } = await sessionOnFakeKernel(t);
    session.markLost('the Jupyter server was lost (test).');
    assert.throws(() => session.moveTo(new FakeKernel()), /cannot run code/);
  });
});
