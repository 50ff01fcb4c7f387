// The cell waiter (execute_code, wait_for_cell) on a scripted fake kernel: a cell that ends in
// time, one that outlives the call's timeout and is picked up later, a queued one, cancellation
// (interrupt or just stop waiting), a queued request refused when its turn came, progress.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awaitTicketReply, type WaitOptions } from '../../src/mcp/cellWaiter.js';
import { pollUntil } from '../../src/util/deadline.js';
import { gate, untilInterrupted } from '../helpers/fakeKernel.js';
import { requestContext, type RequestFixture } from '../helpers/requestContext.js';
import { sessionOnFakeKernel } from '../helpers/sessionFixture.js';

function waitOptions(request: RequestFixture, overrides: Partial<WaitOptions> = {}): WaitOptions {
  return { timeoutMs: 5000, budget: { textBudget: 10_000, maxImages: 2 }, ctx: request.ctx, interruptOnCancel: true, progressIntervalMs: 10, ...overrides };
}

function text(reply: { content: Array<{ type: string; text?: string }> }): string {
  return reply.content.map((block) => block.text ?? `[${block.type}]`).join('\n');
}

describe('cell waiter', () => {
  it('returns a cell that ends within the timeout, with its output and footer, and marks it delivered', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.on('print("hi")', (run) => run.stream('hi\n'));
    const ticket = session.executeCode('print("hi")');
    const reply = await awaitTicketReply(session, ticket, waitOptions(requestContext()));
    assert.equal(reply.isError, false);
    assert.equal(reply.data.status, 'ok');
    assert.match(text(reply), /^hi\n/);
    assert.match(text(reply), /In \[1\] · ok · .* · session s1\]/);
    assert.equal(ticket.delivered, true);
    assert.deepEqual(session.undelivered(), []);
  });

  it('past its timeout leaves the cell running; a later wait picks up only the new output', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate((run) => run.stream('second\n'));
    kernel.on('slow', slow.script);
    const ticket = session.executeCode('slow');
    const run = await slow.started;
    run.stream('first\n');
    const early = await awaitTicketReply(session, ticket, waitOptions(requestContext(), { timeoutMs: 30 }));
    assert.equal(early.data.status, 'running');
    assert.match(text(early), /first\n/);
    assert.match(text(early), /is still running .* Call wait_for_cell\(session_id="s1"\)/s);
    assert.equal(ticket.run?.finished, false, 'a timeout never stops the cell');
    assert.equal(kernel.interrupts, 0);
    slow.release();
    const later = await awaitTicketReply(session, ticket, waitOptions(requestContext(), { interruptOnCancel: false }));
    assert.equal(later.data.status, 'ok');
    assert.match(text(later), /^second\n/);
    assert.doesNotMatch(text(later), /first/, 'what the agent saw already is not sent again');
  });

  it('says a cell waits in the queue behind the running one', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    session.executeCode('slow');
    const queued = session.executeCode('next');
    await slow.started;
    const reply = await awaitTicketReply(session, queued, waitOptions(requestContext(), { timeoutMs: 20 }));
    assert.equal(reply.data.status, 'queued');
    assert.match(text(reply), /^Queued: .* waits behind cell 0/);
    slow.release();
    await session.settle(queued);
  });

  it('a cancelled execute_code interrupts its running cell and returns how it ended', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.on('loop', untilInterrupted());
    const ticket = session.executeCode('loop');
    await kernel.nextRun('loop');
    const request = requestContext();
    const waiting = awaitTicketReply(session, ticket, waitOptions(request));
    request.abort.abort();
    const reply = await waiting;
    assert.equal(kernel.interrupts, 1);
    assert.equal(reply.data.status, 'error');
    assert.match(text(reply), /KeyboardInterrupt/);
  });

  it('a cancelled execute_code whose cell is still queued withdraws it unrun', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    session.executeCode('slow');
    const queued = session.executeCode('never');
    await slow.started;
    const request = requestContext();
    const waiting = awaitTicketReply(session, queued, waitOptions(request));
    request.abort.abort();
    const reply = await waiting;
    assert.equal(reply.data.status, 'not_run');
    assert.equal(queued.withdrawn, 'the request was cancelled');
    assert.equal(kernel.interrupts, 0, 'the running cell is not someone else’s to stop');
    slow.release();
    await pollUntil(async () => (session.current ? undefined : true), { timeoutMs: 5000, intervalMs: 1, what: 'the running cell ending' });
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['slow'],
    );
  });

  it('a cancelled wait_for_cell only stops waiting', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const ticket = session.executeCode('slow');
    await slow.started;
    const request = requestContext();
    const waiting = awaitTicketReply(session, ticket, waitOptions(request, { interruptOnCancel: false }));
    request.abort.abort();
    const reply = await waiting;
    assert.equal(reply.data.status, 'running');
    assert.match(text(reply), /Stopped waiting; the cell goes on/);
    assert.equal(kernel.interrupts, 0);
    slow.release();
    assert.equal((await session.settle(ticket))?.status, 'ok');
  });

  it('delivers a queued request refused when its turn came as an error that did not run', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    await session.settle(session.executeCode('target'));
    const slow = gate();
    kernel.on('slow', slow.script);
    session.executeCode('slow');
    await slow.started;
    const rerun = session.runCell({ id: notebook.cells[0]!.id });
    await session.deleteCell({ index: 0 });
    const waiting = awaitTicketReply(session, rerun, waitOptions(requestContext()));
    slow.release();
    await assert.rejects(waiting, /was deleted before it could run/);
    assert.ok(!session.undelivered().includes(rerun), 'told once, to the caller that waited');
  });

  it('sends progress notifications while the cell runs, naming its newest output line', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const slow = gate();
    kernel.on('slow', slow.script);
    const ticket = session.executeCode('slow');
    const run = await slow.started;
    run.stream('epoch 1\nepoch 2\n');
    const request = requestContext({ progress: true });
    const waiting = awaitTicketReply(session, ticket, waitOptions(request));
    await pollUntil(async () => (request.progress.length >= 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 5, what: 'two progress notifications' });
    slow.release();
    await waiting;
    assert.match(String(request.progress[0]?.message), /^cell 0 running \d+ s · epoch 2$/);
    assert.ok(request.progress[1]!.progress > request.progress[0]!.progress, 'progress grows');
  });
});
