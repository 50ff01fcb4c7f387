// Ending live sessions with SessionManager on fake kernels: shutdown_session and the shutdown at
// exit stop the kernel, record the running cell as far as it got, answer SHUTTING_DOWN (not
// UNKNOWN_SESSION) while closing, and take the session out of the registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JlabError } from '../../src/util/errors.js';
import { gate } from '../helpers/fakeKernel.js';
import { managerOnFakeKernels } from '../helpers/managerFixture.js';

const isCode = (code: string) => (error: unknown) => error instanceof JlabError && error.code === code;

/** A promise and its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('SessionManager shutdown', () => {
  it('shutdown_session stops the kernel, ends the running cell, answers SHUTTING_DOWN meanwhile and tells the registry', async (t) => {
    const { manager, kernels, registry } = await managerOnFakeKernels(t, { registry: true });
    const session = await manager.startNew('exp');
    const kernel = session.kernel;
    assert.ok(registry?.sessions[session.id], 'the registry has the live session');
    const slow = gate();
    kernel.on('slow()', slow.script);
    const running = session.executeCode('slow()');
    const queued = session.executeCode('later()');
    await slow.started;
    const asked = deferred();
    const answered = deferred();
    kernel.whileShuttingDown = () => {
      asked.resolve();
      return answered.promise;
    };

    const closing = manager.shutdown(session.id);
    await asked.promise;
    assert.throws(
      () => manager.get(session.id),
      (error: unknown) => isCode('SHUTTING_DOWN')(error) && (error as JlabError).hint?.includes(session.notebookPath) === true,
    );
    await assert.rejects(manager.use(session.id), isCode('SHUTTING_DOWN'));
    assert.deepEqual(manager.list(), []);
    answered.resolve();

    assert.equal(await closing, session);
    assert.equal(kernel.shutDown, true);
    assert.equal(queued.withdrawn, 'the session was shut down');
    const outcome = await session.settle(running);
    assert.equal(outcome?.outputs.at(-1)?.ename, 'SessionShutDown', 'the running cell is recorded as ended by the shutdown');
    assert.throws(() => manager.get(session.id), isCode('UNKNOWN_SESSION'));
    assert.equal(registry?.sessions[session.id], undefined, 'the registry forgot the session');
    assert.equal(kernels.started.length, 1);
  });

  it('shutdownAll stops every kernel, forgets every session in the registry, and answers SHUTTING_DOWN after', async (t) => {
    const { manager, kernels, registry } = await managerOnFakeKernels(t, { registry: true });
    const first = await manager.startNew('one');
    const second = await manager.startNew('two');
    const slow = gate();
    second.kernel.on('slow()', slow.script);
    const running = second.executeCode('slow()');
    await slow.started;
    assert.equal(Object.keys(registry?.sessions ?? {}).length, 2);

    await manager.shutdownAll();
    assert.deepEqual(
      kernels.started.map((kernel) => kernel.shutDown),
      [true, true],
    );
    assert.equal(running.outcome?.outputs.at(-1)?.ename, 'SessionShutDown', 'the running cell ended with the shutdown');
    assert.deepEqual(manager.list(), []);
    assert.deepEqual(registry?.sessions, {});
    for (const session of [first, second]) assert.throws(() => manager.get(session.id), isCode('SHUTTING_DOWN'));
  });
});
