// A resume's replay of a notebook on a scripted fake kernel: order, stop_on_error and the cell sent
// ahead that the kernel aborts, cell timeouts (obeyed, and ignored → restart), kernel death,
// cancel, cells sent meanwhile, and the summary the agent reads while it goes on and at its end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replaySummary } from '../../src/mcp/replayWaiter.js';
import { pollUntil } from '../../src/util/deadline.js';
import type { CodeCell } from '../../src/notebook/types.js';
import { gate, ignoresInterrupts, untilInterrupted } from '../helpers/fakeKernel.js';
import { notebookWithCode, sessionOnFakeKernel } from '../helpers/sessionFixture.js';

const codes = (requests: Array<{ code: string }>) => requests.map((request) => request.code);

describe('replay', () => {
  it('re-runs every non-empty code cell in order and saves the notebook once at the end', async (t) => {
    const { session, kernel, readBack } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a = 1', '   ', 'b = a + 1', 'print(b)') });
    kernel.on('print(b)', (run) => run.stream('2\n'));
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: true });
    assert.equal(replay.total, 3);
    await replay.done;
    assert.deepEqual(codes(kernel.requests), ['a = 1', 'b = a + 1', 'print(b)']);
    assert.deepEqual(
      replay.outcomes.map((outcome) => [outcome.cellIndex, outcome.status, outcome.executionCount]),
      [
        [0, 'ok', 1],
        [2, 'ok', 2],
        [3, 'ok', 3],
      ],
    );
    assert.equal(replay.stoppedBecause, undefined);
    const cells = (await readBack()).cells as CodeCell[];
    assert.deepEqual(cells[3]?.outputs, [{ output_type: 'stream', name: 'stdout', text: '2\n' }]);
    const summary = replaySummary(session, replay) as { replay: { status: string; cells_run: number; cells_total: number }; restored_with_errors: unknown };
    assert.deepEqual([summary.replay.status, summary.replay.cells_run, summary.replay.cells_total, summary.restored_with_errors], ['done', 3, 3, null]);
    assert.deepEqual(session.undelivered(), [], 'the replay forgets its tickets: wait_for_cell reports the replay, not each cell');
  });

  it('with stop_on_error stops at the first failure; the cell sent ahead is aborted unrun and keeps its old outputs', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('ok', 'fail', 'after') });
    const after = notebook.cells[2] as CodeCell;
    after.outputs = [{ output_type: 'stream', name: 'stdout', text: 'from last time\n' }];
    after.execution_count = 7;
    // As with a real kernel, the failing cell is still running when the next one is sent ahead.
    const afterSent = kernel.nextRequest('after');
    kernel.on('fail', async (run) => {
      await afterSent;
      run.error('ValueError', 'bad');
    });
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: true });
    await replay.done;
    assert.deepEqual(
      kernel.requests.map((request) => [request.code, request.stopOnError]),
      [
        ['ok', true],
        ['fail', true],
        ['after', true],
      ],
      'the next cell is always sent ahead, so the kernel never waits for a round trip',
    );
    assert.deepEqual(
      replay.outcomes.map((outcome) => outcome.status),
      ['ok', 'error'],
    );
    assert.equal(replay.stoppedBecause, 'cell 1 failed and stop_on_error is set');
    assert.deepEqual([after.outputs, after.execution_count], [[{ output_type: 'stream', name: 'stdout', text: 'from last time\n' }], 7]);
    const summary = replaySummary(session, replay) as { replay: { status: string }; restored_with_errors: Array<{ cell: { index: number }; ename: string }> };
    assert.equal(summary.replay.status, 'stopped');
    assert.deepEqual(
      summary.restored_with_errors.map((error) => [error.cell.index, error.ename]),
      [[1, 'ValueError']],
    );
  });

  it('with stop_on_error, a cell that fails before the next one reaches the kernel: that one runs, and the summary counts it and says so', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('ok', 'fail', 'after') });
    // No wait for the next request: the cell fails at once, before the one sent ahead arrives.
    kernel.on('fail', (run) => run.error('ValueError', 'bad'));
    kernel.on('after', (run) => run.stream('ran\n'));
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: true });
    await replay.done;
    const after = session.notebook.cells[2] as CodeCell;
    assert.deepEqual(after.outputs, [{ output_type: 'stream', name: 'stdout', text: 'ran\n' }], 'the kernel ran it');
    assert.deepEqual(
      replay.outcomes.map((outcome) => [outcome.cellIndex, outcome.status]),
      [
        [0, 'ok'],
        [1, 'error'],
        [2, 'ok'],
      ],
    );
    assert.equal(replay.stoppedBecause, 'cell 1 failed and stop_on_error is set; cell 2 had already been sent to the kernel and ran all the same');
    const summary = replaySummary(session, replay) as { replay: { cells_run: number } };
    assert.equal(summary.replay.cells_run, 3);
  });

  it('without stop_on_error goes past a failing cell', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('fail', 'after') });
    kernel.on('fail', (run) => run.error('ValueError', 'bad'));
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: false });
    await replay.done;
    assert.deepEqual(
      replay.outcomes.map((outcome) => outcome.status),
      ['error', 'ok'],
    );
    assert.equal(replay.stoppedBecause, undefined);
  });

  it('interrupts a cell past its cell_timeout, notes it, and goes on', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('slow', 'next') });
    kernel.on('slow', untilInterrupted());
    const replay = session.startReplay({ cellTimeoutMs: 30, stopOnError: false });
    await replay.done;
    assert.equal(kernel.interrupts, 1);
    assert.deepEqual(
      replay.outcomes.map((outcome) => [outcome.status, outcome.outputs.map((output) => output.ename)]),
      [
        ['error', ['KeyboardInterrupt', 'CellTimeout']],
        ['ok', []],
      ],
    );
  });

  it('restarts a kernel whose cell ignores the timeout interrupt, and sends again the cell that died unrun with it', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('stubborn', 'next'), session: { interruptGraceMs: 30 } });
    kernel.on('stubborn', ignoresInterrupts());
    const replay = session.startReplay({ cellTimeoutMs: 30, stopOnError: false });
    await replay.done;
    assert.equal(kernel.restartRequests, 1, 'a replay always escalates: nothing else would end the cell');
    assert.deepEqual(codes(kernel.requests), ['stubborn', 'next', 'next']);
    assert.deepEqual(
      replay.outcomes.map((outcome) => [outcome.status, outcome.outputs.at(-1)?.ename]),
      [
        ['kernel_died', 'CellTimeout'],
        ['ok', undefined],
      ],
    );
    assert.equal(replay.stoppedBecause, undefined);
  });

  it('stops when the kernel dies under a cell', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'crash', 'never') });
    kernel.on('crash', () => kernel.die());
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: false });
    await replay.done;
    // The kernel dies at once, before the cell sent ahead reaches it: the restarted kernel runs that one.
    assert.equal(replay.stoppedBecause, 'the kernel died while running cell 1; cell 2 had already been sent to the kernel and ran all the same');
    assert.deepEqual(
      replay.outcomes.map((outcome) => outcome.status),
      ['ok', 'kernel_died', 'ok'],
    );
  });

  it('reports progress while it runs, and an interrupt stops it after the running cell', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'slow', 'c', 'd') });
    kernel.on('slow', untilInterrupted());
    const replay = session.startReplay({ cellTimeoutMs: 60_000, stopOnError: false });
    await kernel.nextRun('slow');
    await pollUntil(async () => (replay.current?.run?.cell.source === 'slow' ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 1,
      what: 'the replay reaching the slow cell',
    });
    const during = replaySummary(session, replay) as { replay: { status: string; cells_run: number; running: { index: number } | null }; message: string };
    assert.deepEqual([during.replay.status, during.replay.cells_run, during.replay.running?.index], ['running', 1, 1]);
    assert.match(during.message, /1 of 4 cells done/);
    assert.equal(replay.position, 2);
    await session.interrupt();
    await replay.done;
    assert.equal(replay.stoppedBecause, 'the kernel was interrupted');
    assert.deepEqual(
      replay.outcomes.map((outcome) => outcome.status),
      ['ok', 'error', 'ok'],
      'the cell sent ahead reached the kernel before the interrupt and ran: it is counted',
    );
    assert.ok(!codes(kernel.requests).includes('d'), 'nothing after the cell sent ahead is sent');
  });

  it('runs cells sent during the replay after it, never between its cells', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a', 'b', 'c') });
    const held = gate();
    kernel.on('a', held.script);
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: false });
    await held.started;
    const sent = session.executeCode('mine');
    held.release();
    const outcome = await session.settle(sent);
    assert.equal(replay.finished, true);
    assert.deepEqual(codes(kernel.requests), ['a', 'b', 'c', 'mine']);
    assert.equal(outcome?.cellIndex, 3);
  });
});
