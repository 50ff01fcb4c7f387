// The replay waiter (start_session_resume_notebook, wait_for_cell on a replay) on a scripted fake
// kernel: a replay that outlives the call goes on, a cancelled resume stops it and interrupts its
// cell, "cell k of n" progress.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awaitReplay } from '../../src/mcp/replayWaiter.js';
import { pollUntil } from '../../src/util/deadline.js';
import { gate, untilInterrupted } from '../helpers/fakeKernel.js';
import { requestContext } from '../helpers/requestContext.js';
import { notebookWithCode, sessionOnFakeKernel } from '../helpers/sessionFixture.js';

type Summary = { replay: { status: string; cells_run: number; cells_total: number; stopped_because: string | null }; message: string };

describe('replay waiter', () => {
  it('returns "running" at its timeout and the replay goes on; a later wait gets the end', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'slow', 'c') });
    const slow = gate();
    kernel.on('slow', slow.script);
    const replay = session.startReplay({ cellTimeoutMs: 60_000, stopOnError: false });
    await slow.started;
    const early = (await awaitReplay(session, replay, { timeoutMs: 20, ctx: requestContext().ctx, cancelOnAbort: true, progressIntervalMs: 1000 })) as Summary;
    assert.equal(early.replay.status, 'running');
    assert.match(early.message, /Replay goes on in the background: .* Call wait_for_cell\(session_id="s1"\)/);
    assert.equal(replay.delivered, false);
    slow.release();
    const late = (await awaitReplay(session, replay, {
      timeoutMs: 5000,
      ctx: requestContext().ctx,
      cancelOnAbort: false,
      progressIntervalMs: 1000,
    })) as Summary;
    assert.deepEqual([late.replay.status, late.replay.cells_run, late.message], ['done', 3, 'Replayed all 3 code cells.']);
    assert.equal(replay.delivered, true);
  });

  it('a cancelled resume stops the replay and interrupts its running cell', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('loop', 'never') });
    kernel.on('loop', untilInterrupted());
    const replay = session.startReplay({ cellTimeoutMs: 60_000, stopOnError: false });
    await kernel.nextRun('loop');
    const request = requestContext();
    const waiting = awaitReplay(session, replay, { timeoutMs: 5000, ctx: request.ctx, cancelOnAbort: true, progressIntervalMs: 1000 });
    request.abort.abort();
    await waiting;
    await replay.done;
    assert.equal(kernel.interrupts, 1);
    assert.equal(replay.stoppedBecause, 'the request was cancelled');
  });

  it('sends "cell k of n" progress at once and while it runs', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'slow') });
    const slow = gate();
    kernel.on('slow', slow.script);
    const replay = session.startReplay({ cellTimeoutMs: 60_000, stopOnError: false });
    await slow.started;
    await pollUntil(async () => (replay.outcomes.length === 1 ? true : undefined), { timeoutMs: 5000, intervalMs: 1, what: 'the first cell counted' });
    const request = requestContext({ progress: true });
    const waiting = awaitReplay(session, replay, { timeoutMs: 5000, ctx: request.ctx, cancelOnAbort: false, progressIntervalMs: 10 });
    assert.match(String(request.progress[0]?.message), /^resume of .*experiment\.ipynb: cell 2 of 2 \(notebook cell 1, \d+ s\)$/);
    slow.release();
    await waiting;
  });
});
