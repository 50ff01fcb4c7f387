// SessionManager without a Jupyter server: session lookup (unknown, gone after a restart), a
// failed server start reported on the call and retried on the next, the wait for a reattach.
// Live sessions on fake kernels: session-manager-start, -shutdown and -loss.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerPool } from '../../src/sessions/serverPool.js';
import { SessionManager } from '../../src/sessions/sessionManager.js';
import type { SessionRecord } from '../../src/state/records.js';
import { JlabError } from '../../src/util/errors.js';
import { idleBackend } from '../helpers/sessionFixture.js';

function managerWithoutServer(starts: { count: number } = { count: 0 }): SessionManager {
  const pool = new ServerPool(
    {
      profiles: [],
      defaultProfile: 'default',
      create: () => ({
        ...idleBackend(),
        start: async () => {
          starts.count++;
          throw new JlabError('SERVER_START_FAILED', 'jupyter-server is not installed (test)', { hint: 'Install it.' });
        },
      }),
    },
    'unit test',
  );
  return new SessionManager(pool, { notebookDir: '/nonexistent-unit-test-dir', kernelStartTimeoutMs: 1000 });
}

const isCode = (code: string) => (error: unknown) => error instanceof JlabError && error.code === code;

describe('SessionManager', () => {
  it('answers an unknown session id with UNKNOWN_SESSION and how to start one', async () => {
    const manager = managerWithoutServer();
    assert.throws(
      () => manager.get('nope'),
      (error: unknown) => isCode('UNKNOWN_SESSION')(error) && /start_new_session/.test((error as JlabError).hint ?? ''),
    );
    await assert.rejects(manager.use('nope'), isCode('UNKNOWN_SESSION'));
    await assert.rejects(manager.shutdown('nope'), isCode('UNKNOWN_SESSION'));
    assert.deepEqual(manager.list(), []);
  });

  it('answers a session that did not survive a restart with SERVER_LOST and the resume call', () => {
    const manager = managerWithoutServer();
    const record: SessionRecord = {
      id: 'abc123',
      notebookPath: '/notebooks/run.ipynb',
      experimentName: 'run',
      profile: 'default',
      kernelId: 'k1',
      kernelName: 'python3',
    };
    manager.markGone(record, 'its kernel k1 no longer exists');
    assert.throws(
      () => manager.get('abc123'),
      (error: unknown) =>
        isCode('SERVER_LOST')(error) &&
        /its kernel k1 no longer exists/.test((error as JlabError).message) &&
        /notebook_path="\/notebooks\/run.ipynb"/.test((error as JlabError).hint ?? ''),
    );
    assert.deepEqual(manager.listGone(), [{ session_id: 'abc123', notebook_path: '/notebooks/run.ipynb', reason: 'its kernel k1 no longer exists' }]);
  });

  it('reports a failed server start on the call, and the next call tries again', async () => {
    const starts = { count: 0 };
    const manager = managerWithoutServer(starts);
    await assert.rejects(manager.startNew('exp'), (error: unknown) => isCode('SERVER_START_FAILED')(error) && /not installed/.test((error as Error).message));
    await assert.rejects(manager.startNew('exp'), isCode('SERVER_START_FAILED'));
    assert.equal(starts.count, 2);
  });

  it('holds tool calls until the reattach of an earlier run has settled', async () => {
    const manager = managerWithoutServer();
    const events: string[] = [];
    let finish!: () => void;
    void manager.reattachWith(() => new Promise<void>((resolve) => (finish = resolve)));
    const call = manager.use('nope').catch((error: unknown) => events.push(`use: ${(error as JlabError).code}`));
    setImmediate(() => {
      events.push('reattach settled');
      finish();
    });
    await call;
    assert.deepEqual(events, ['reattach settled', 'use: UNKNOWN_SESSION']);
  });

  it('shuts down cleanly with no sessions', async () => {
    const manager = managerWithoutServer();
    await manager.shutdownAll();
    await manager.detachAll();
    assert.deepEqual(manager.list(), []);
  });
});
