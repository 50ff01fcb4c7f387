// The session's FIFO queue on a scripted fake kernel: order, one cell at a time, cancel of a queued
// cell, outputs landing in their own cell, a queued request whose cell was deleted meanwhile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeCell } from '../../src/notebook/types.js';
import { JlabError } from '../../src/util/errors.js';
import { gate } from '../helpers/fakeKernel.js';
import { sessionOnFakeKernel } from '../helpers/sessionFixture.js';

describe('session queue', () => {
  it('runs cells one at a time, in the order they were sent', async (t) => {
    const { session, kernel, readBack } = await sessionOnFakeKernel(t);
    const first = gate((run) => run.stream('one\n'));
    kernel
      .on('a', first.script)
      .on('b', (run) => run.stream('two\n'))
      .on('c', (run) => run.result('3'));
    const tickets = [session.executeCode('a'), session.executeCode('b'), session.executeCode('c')];
    await first.started;
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['a'],
      'the cells behind a running cell wait in the session, not in the kernel',
    );
    assert.equal(session.current, tickets[0]);
    assert.deepEqual(session.queued, tickets.slice(1));
    first.release();
    const outcomes = await Promise.all(tickets.map((ticket) => session.settle(ticket)));
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      outcomes.map((outcome) => [outcome?.cellIndex, outcome?.status, outcome?.executionCount]),
      [
        [0, 'ok', 1],
        [1, 'ok', 2],
        [2, 'ok', 3],
      ],
    );
    const onDisk = (await readBack()).cells as CodeCell[];
    assert.deepEqual(
      onDisk.map((cell) => [[cell.source].flat().join(''), cell.execution_count, cell.outputs]),
      [
        ['a', 1, [{ output_type: 'stream', name: 'stdout', text: 'one\n' }]],
        ['b', 2, [{ output_type: 'stream', name: 'stdout', text: 'two\n' }]],
        ['c', 3, [{ output_type: 'execute_result', data: { 'text/plain': '3' }, metadata: {}, execution_count: 3 }]],
      ],
    );
  });

  it('records a raised error in the cell and goes on with the next one', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.on('plot(); 1/0', (run) => {
      run.display({ 'text/plain': '<Figure>' });
      run.error('ZeroDivisionError', 'division by zero');
    });
    const failing = session.executeCode('plot(); 1/0');
    const next = session.executeCode('x = 1');
    const outcome = await session.settle(failing);
    assert.equal(outcome?.status, 'error');
    assert.deepEqual(
      outcome?.outputs.map((output) => [output.output_type, output.ename ?? output.data]),
      [
        ['display_data', { 'text/plain': '<Figure>' }],
        ['error', 'ZeroDivisionError'],
      ],
    );
    assert.equal((await session.settle(next))?.status, 'ok');
  });

  it('withdraws a queued cell without sending it, and runs the rest', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    const first = gate();
    kernel.on('first', first.script);
    const running = session.executeCode('first');
    const cancelled = session.executeCode('cancelled');
    const kept = session.executeCode('kept');
    await first.started;
    cancelled.withdraw('the request was cancelled');
    assert.equal(await cancelled.done, undefined);
    assert.equal(cancelled.withdrawn, 'the request was cancelled');
    first.release();
    await session.settle(running);
    await session.settle(kept);
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['first', 'kept'],
    );
    assert.deepEqual(
      notebook.cells.map((cell) => cell.source),
      ['first', 'kept'],
      'a withdrawn cell never enters the notebook',
    );
  });

  it('withdrawQueued drops every queued cell but leaves the running one alone', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const first = gate();
    kernel.on('first', first.script);
    const running = session.executeCode('first');
    const queued = [session.executeCode('q1'), session.executeCode('q2')];
    await first.started;
    assert.equal(session.withdrawQueued('test'), 2);
    assert.deepEqual(session.queued, []);
    assert.ok(queued.every((ticket) => ticket.withdrawn === 'test'));
    first.release();
    assert.equal((await session.settle(running))?.status, 'ok');
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['first'],
    );
  });

  it('marks a running cell in the notebook and clears the mark when it ends', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const ticket = session.executeCode('slow');
    await slow.started;
    const cell = notebook.cells[0]!;
    assert.equal((cell.metadata.jlab_mcp as { status?: string } | undefined)?.status, 'running');
    slow.release();
    await session.settle(ticket);
    assert.equal(cell.metadata.jlab_mcp, undefined);
  });

  it('refuses a queued edit whose cell was deleted before its turn, through settle', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    await session.settle(session.executeCode('target'));
    const first = gate();
    kernel.on('first', first.script);
    const running = session.executeCode('first');
    await first.started;
    const edit = session.editCell({ id: notebook.cells[0]!.id }, 'edited');
    await session.deleteCell({ index: 0 });
    first.release();
    await session.settle(running);
    await assert.rejects(session.settle(edit), (error: unknown) => error instanceof JlabError && error.code === 'CELL_NOT_FOUND');
    assert.equal(edit.run, undefined);
    assert.ok(session.undelivered().includes(edit), 'kept for wait_for_cell until delivered');
  });

  it('refuses to delete the running cell', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const ticket = session.executeCode('slow');
    await slow.started;
    await assert.rejects(session.deleteCell({ index: 0 }), /is running; interrupt it first/);
    slow.release();
    await session.settle(ticket);
  });

  it('refuses code no kernel can run before queueing it', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    assert.throws(
      () => session.executeCode('print("\0")'),
      (error: unknown) => error instanceof JlabError && error.code === 'INVALID_ARGUMENT',
    );
    assert.deepEqual(kernel.requests, []);
  });
});
