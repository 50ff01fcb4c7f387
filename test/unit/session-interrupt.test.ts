// Interrupt and its escalation on a scripted fake kernel: a cell that obeys, one that ignores the
// interrupt (still_busy, or a restart when forced or configured), restart_kernel, an idle kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Output } from '../../src/notebook/types.js';
import { gate, ignoresInterrupts, untilInterrupted } from '../helpers/fakeKernel.js';
import { sessionOnFakeKernel } from '../helpers/sessionFixture.js';

function errorNames(outputs: Output[] | undefined): string[] {
  return (outputs ?? []).filter((output) => output.output_type === 'error').map((output) => String(output.ename));
}

describe('session interrupt', () => {
  it('stops a running cell that obeys, and drops the queue behind it', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.on('loop', untilInterrupted('working\n'));
    const running = session.executeCode('loop');
    const queued = session.executeCode('after');
    await kernel.nextRun('loop');
    const report = await session.interrupt();
    assert.equal(report.state, 'stopped');
    assert.equal(report.running, running);
    assert.equal(report.dropped, 1);
    assert.equal(queued.withdrawn, 'the kernel was interrupted');
    const outcome = await session.settle(running);
    assert.equal(outcome?.status, 'error');
    assert.deepEqual(errorNames(outcome?.outputs), ['KeyboardInterrupt']);
    assert.equal(kernel.interrupts, 1);
    assert.equal(kernel.restartRequests, 0);
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['loop'],
    );
  });

  it('reports still_busy when the cell ignores the interrupt and nothing says to restart', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { session: { interruptGraceMs: 30, restartIgnoredInterrupt: false } });
    kernel.on('stubborn', ignoresInterrupts());
    const running = session.executeCode('stubborn');
    await kernel.nextRun('stubborn');
    const report = await session.interrupt();
    assert.equal(report.state, 'still_busy');
    assert.equal(kernel.restartRequests, 0);
    assert.equal(running.run?.finished, false, 'the cell is still running');
    await session.restart();
    assert.equal((await session.settle(running))?.status, 'kernel_died');
  });

  it('restarts the kernel when forced, and says so in the cell', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { session: { interruptGraceMs: 30 } });
    kernel.on('stubborn', ignoresInterrupts('partial\n'));
    const running = session.executeCode('stubborn');
    await kernel.nextRun('stubborn');
    const report = await session.interrupt({ force: true });
    assert.equal(report.state, 'restarted');
    assert.equal(kernel.restartRequests, 1);
    const outcome = await session.settle(running);
    assert.equal(outcome?.status, 'kernel_died');
    assert.deepEqual(errorNames(outcome?.outputs), ['KernelRestarted']);
    assert.match(String(outcome?.outputs.at(-1)?.evalue), /ignored the interrupt/);
    assert.equal(outcome?.outputs[0]?.text, 'partial\n', 'the output up to then is kept');
    assert.equal((await session.settle(session.executeCode('x')))?.status, 'ok', 'the session goes on');
  });

  it('restarts an ignoring kernel without force when the settings say so', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { session: { interruptGraceMs: 30, restartIgnoredInterrupt: true } });
    kernel.on('stubborn', ignoresInterrupts());
    session.executeCode('stubborn');
    await kernel.nextRun('stubborn');
    assert.equal((await session.interrupt()).state, 'restarted');
    assert.equal(kernel.restartRequests, 1);
  });

  it('still waits out the grace period when the interrupt request itself fails', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { session: { interruptGraceMs: 30 } });
    kernel.interruptFails = new Error('the server did not answer');
    kernel.on('stubborn', ignoresInterrupts());
    const running = session.executeCode('stubborn');
    await kernel.nextRun('stubborn');
    assert.equal((await session.interrupt()).state, 'still_busy');
    await session.restart();
    await session.settle(running);
  });

  it('interrupts an idle kernel and reports idle', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const report = await session.interrupt();
    assert.deepEqual(report, { dropped: 0, state: 'idle' });
    assert.equal(kernel.interrupts, 1);
  });

  it('restart_kernel ends the running cell as restarted and withdraws the queue', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const running = session.executeCode('slow');
    const queued = session.executeCode('queued');
    await slow.started;
    const { running: was, dropped } = await session.restart();
    assert.equal(was, running);
    assert.equal(dropped, 1);
    assert.equal(queued.withdrawn, 'the kernel was restarted');
    const outcome = await session.settle(running);
    assert.equal(outcome?.status, 'kernel_died');
    assert.match(String(outcome?.outputs.at(-1)?.evalue), /restart_kernel/);
    const next = await session.settle(session.executeCode('x'));
    assert.equal(next?.executionCount, 1, 'a restarted kernel counts from 1 again');
  });

  it('stopCell with the cell_timeout cause interrupts one cell and leaves the queue alone', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.on('loop', untilInterrupted());
    const running = session.executeCode('loop');
    const queued = session.executeCode('after');
    await kernel.nextRun('loop');
    assert.equal(await session.stopCell(running, { cause: 'cell_timeout' }), 'stopped');
    assert.equal(queued.withdrawn, undefined);
    assert.equal((await session.settle(queued))?.status, 'ok');
    assert.equal(await session.stopCell(running, { cause: 'interrupt' }), 'idle', 'a finished cell needs no stopping');
  });
});
