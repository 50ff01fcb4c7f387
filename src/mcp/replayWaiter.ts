import type { ServerContext } from '@modelcontextprotocol/server';
import { agentValueText } from '../output/agentContent.js';
import { wellFormed } from '../output/wellFormed.js';
import type { Replay } from '../sessions/replay.js';
import { startProgress } from './progress.js';
import type { Session } from '../sessions/session.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import { within } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { redactSecrets } from '../util/secrets.js';
import { suggestedCall } from './suggestedCall.js';

export interface ReplayWaitOptions {
  timeoutMs: number;
  ctx: ServerContext;
  /** Cancelling the request stops the replay and interrupts its cell (resume); wait_for_cell only stops waiting. */
  cancelOnAbort: boolean;
  progressIntervalMs: number;
}

/**
 * Waits for a resume's replay until it ends, the timeout passes or the request is cancelled,
 * sending "cell k of n" progress notifications meanwhile. Returns where the replay stands; a
 * replay that goes on past the timeout is followed with wait_for_cell.
 */
export async function awaitReplay(session: Session<KernelPort>, replay: Replay, options: ReplayWaitOptions): Promise<Record<string, unknown>> {
  const signal = options.ctx.mcpReq.signal;
  const stopProgress = startReplayProgress(session, replay, options);
  const cancelled = new Promise<'cancelled'>((resolve) => {
    if (signal.aborted) resolve('cancelled');
    signal.addEventListener('abort', () => resolve('cancelled'), { once: true });
  });
  try {
    const waited = await within(Promise.race([replay.done, cancelled]), options.timeoutMs);
    if (waited?.value === 'cancelled' && options.cancelOnAbort) cancelReplay(session, replay, 'the request was cancelled');
  } finally {
    stopProgress();
  }
  return replaySummary(session, replay);
}

/** Stops a replay after its current cell and interrupts that cell (escalating as the settings say). */
export function cancelReplay(session: Session<KernelPort>, replay: Replay, reason: string): void {
  replay.cancel(reason);
  const current = replay.current;
  if (current) void session.stopCell(current, { cause: 'interrupt' }).catch((error: unknown) => log.warn(`interrupt failed: ${messageOf(error)}`));
}

/** Where a replay stands, for the agent; once it has ended, the summary counts as delivered. */
export function replaySummary(session: Session<KernelPort>, replay: Replay): Record<string, unknown> {
  const errors = replay.outcomes
    .filter((outcome) => outcome.status !== 'ok')
    .map((outcome) => {
      const error = outcome.outputs.findLast((output) => output.output_type === 'error');
      return {
        cell: { id: outcome.cellId, index: outcome.cellIndex },
        status: outcome.status,
        ename: error ? agentValueText(String(error.ename)) : undefined,
        evalue: error ? wellFormed(redactSecrets(agentValueText(String(error.evalue))).slice(0, 500)) : undefined,
      };
    });
  const status = !replay.finished ? 'running' : replay.stoppedBecause ? 'stopped' : 'done';
  if (replay.finished) replay.delivered = true;
  const running = replay.current?.run && !replay.current.run.finished ? replay.current.run : undefined;
  return {
    replay: {
      status,
      cells_total: replay.total,
      cells_run: replay.outcomes.length,
      running: running ? { id: running.cell.id, index: running.cellIndex } : null,
      stopped_because: replay.stoppedBecause ?? null,
      seconds: Math.round((Date.now() - replay.startedAt) / 100) / 10,
      save_error: replay.saveError ?? null,
    },
    cells_run: replay.outcomes.length,
    restored_with_errors: errors.length ? errors : null,
    message: replayMessage(session, replay, status),
  };
}

function replayMessage(session: Session<KernelPort>, replay: Replay, status: string): string {
  if (status === 'running') {
    return `Replay goes on in the background: ${replay.outcomes.length} of ${replay.total} cells done. Call ${suggestedCall('wait_for_cell', { session_id: session.id })} to follow it, or ${suggestedCall('interrupt_kernel', { session_id: session.id })} to stop it. Cells you send now run after it.`;
  }
  if (status === 'stopped') return `Replay stopped after ${replay.outcomes.length} of ${replay.total} cells: ${replay.stoppedBecause}.`;
  return `Replayed all ${replay.total} code cells.`;
}

/** "resume of …: cell k of n (notebook cell i, 12 s)", at once and every interval. */
function startReplayProgress(session: Session<KernelPort>, replay: Replay, options: ReplayWaitOptions): () => void {
  return startProgress(
    options.ctx,
    options.progressIntervalMs,
    () => {
      const run = replay.current?.run;
      const where = run && !run.finished ? ` (notebook cell ${run.cellIndex}, ${Math.round((Date.now() - run.startedAt) / 1000)} s)` : '';
      return `resume of ${session.notebookPath}: cell ${Math.min(replay.position, replay.total)} of ${replay.total}${where}`;
    },
    // At once too: a short wait (the call's timeout) may end before the first interval.
    true,
  );
}
