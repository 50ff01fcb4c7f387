import type { CellOutcome } from '../sessions/cellOutcome.js';
import type { CellRun } from '../sessions/cellRun.js';
import type { CellTicket } from '../sessions/cellTicket.js';
import type { InterruptState, Session } from '../sessions/session.js';
import { assignsNames } from '../sessions/scratchAssigns.js';
import { redactSecrets } from '../util/secrets.js';
import { appendFooter, cellData, cellLabel, errorOf, isFailure, unseenContent, type CellReply, type OutputBudget } from './cellResult.js';
import { suggestedCall } from './suggestedCall.js';

/** Said in every scratch reply, so that no agent takes its output for a recorded cell. */
const NOT_RECORDED = 'Scratch run: not recorded (no cell was added, the notebook file is unchanged, the execution count did not move).';

/** The note a scratch run gets when its code binds names: the kernel changed in a way the notebook does not show. */
export function stateChangeNote(source: string): string[] {
  return assignsNames(source)
    ? ["Note: this code assigns names, so the kernel's state changed; a resume from the notebook would not reproduce it (run it as a cell to keep it)."]
    : [];
}

/** How messages name a run: a notebook cell by index and id, a scratch run as such. */
export function runLabel(run: Pick<CellRun, 'scratch' | 'cellIndex' | 'cell'>): string {
  return run.scratch ? 'a scratch run' : cellLabel(run.cellIndex, run.cell.id);
}

/** interrupt_kernel's message when what ran was a scratch run (nothing of it is recorded). */
export function scratchInterruptMessage(state: InterruptState, sessionId: string): string {
  if (state === 'stopped') return 'The scratch run stopped (KeyboardInterrupt; not recorded). Kernel state is kept.';
  if (state === 'restarted') return 'The scratch run ignored the interrupt, so the kernel was restarted: its variables are lost; the notebook keeps its cells.';
  return `The scratch run is still running: it ignored the interrupt. Call ${suggestedCall('interrupt_kernel', { session_id: sessionId, force: true })} to restart the kernel (its variables are lost; the notebook keeps its cells), or ${suggestedCall('wait_for_cell', { session_id: sessionId })} if it may finish.`;
}

/** A finished scratch run: its output, the status, and that nothing was recorded. */
export async function scratchFinishedReply(
  session: Pick<Session, 'id' | 'notebookPath'>,
  ticket: CellTicket,
  outcome: CellOutcome,
  budget: OutputBudget,
  extra: { walltime?: string; notes: string[] },
): Promise<CellReply> {
  const { content, truncated } = await unseenContent(ticket, outcome.outputs, { sessionId: session.id, index: -1, id: outcome.cellId }, budget);
  const notes = [NOT_RECORDED, ...stateChangeNote(ticket.run?.cell.source ?? ''), ...extra.notes];
  if (outcome.status === 'kernel_died') notes.push('The kernel died (or was restarted) during the scratch run: every variable is lost.');
  appendFooter(content, ticket, notes, 'scratch run', outcome, session.id, extra.walltime);
  return {
    content,
    isError: isFailure(outcome),
    data: {
      ...cellData(session, null, null, outcome.status),
      scratch: true,
      duration_seconds: Math.round(outcome.durationMs) / 1000,
      truncated,
      error: errorOf(outcome.outputs),
      notes: notes.map(redactSecrets),
    },
  };
}

/** A scratch run still going at the call's timeout: output so far, and how to get the rest. */
export async function scratchRunningReply(
  session: Pick<Session, 'id' | 'notebookPath'>,
  ticket: CellTicket,
  run: CellRun,
  budget: OutputBudget,
): Promise<CellReply> {
  const { content, truncated } = await unseenContent(ticket, run.collector.outputs, { sessionId: session.id, index: -1, id: run.cell.id }, budget);
  const secondsSoFar = Math.round((Date.now() - run.startedAt) / 1000);
  const text = `[The scratch run is still running (${secondsSoFar} s so far) in session ${session.id}; it is not recorded, so its output exists only in replies. Call ${suggestedCall('wait_for_cell', { session_id: session.id })} for the rest (it follows whatever runs, this run included), or ${suggestedCall('interrupt_kernel', { session_id: session.id })} to stop it.]`;
  content.push({ type: 'text', text });
  return {
    content,
    isError: false,
    data: {
      ...cellData(session, null, null, 'running'),
      scratch: true,
      duration_seconds: Math.round(Date.now() - run.startedAt) / 1000,
      truncated,
      notes: [NOT_RECORDED],
    },
  };
}
