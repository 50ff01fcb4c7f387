import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { agentText } from '../output/agentContent.js';
import { wellFormed } from '../output/wellFormed.js';
import type { CellTicket } from '../sessions/cellTicket.js';
import type { Session } from '../sessions/session.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import { sleep, within } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { startProgress } from './progress.js';
import { errorResult } from './results.js';
import { cellData, cellLabel, finishedReply, statementReply, toolResult, unseenContent, type CellReply, type OutputBudget } from './cellResult.js';
import { runLabel, scratchRunningReply } from './scratchReply.js';
import { sessionNotes } from './walltimeNotices.js';
import { suggestedCall } from './suggestedCall.js';

export interface WaitOptions {
  timeoutMs: number;
  budget: OutputBudget;
  ctx: ServerContext;
  /** Cancelling the request interrupts the cell (execute_code); for wait_for_cell it only stops waiting. */
  interruptOnCancel: boolean;
  progressIntervalMs: number;
}

/** The reason the wait's own timer is stopped with: abort() without one builds a DOMException (a stack trace) on every call. */
const SETTLED = 'settled';

/**
 * Waits for a ticket until it finishes, the timeout passes, or the request is cancelled —
 * sending MCP progress notifications meanwhile when the client asked for them. A timeout never
 * stops the cell: the result says it is still running and how to get the rest.
 */
export async function awaitTicket(session: Session<KernelPort>, ticket: CellTicket, options: WaitOptions): Promise<CallToolResult> {
  return toolResult(await awaitTicketReply(session, ticket, options));
}

/** {@link awaitTicket}, as a reply that wait_for_cell can join with others. */
export async function awaitTicketReply(session: Session<KernelPort>, ticket: CellTicket, options: WaitOptions): Promise<CellReply> {
  const { ctx } = options;
  const deadline = Date.now() + options.timeoutMs;
  const signal = ctx.mcpReq.signal;
  const stopProgress = startCellProgress(session, ticket, options);
  // Ends the timeout's timer once the race is decided; a cancelled request ends it too.
  const settled = new AbortController();
  const forwardCancel = () => settled.abort(SETTLED);
  signal.addEventListener('abort', forwardCancel, { once: true });
  if (signal.aborted) settled.abort(SETTLED);
  try {
    const winner = await Promise.race([
      // A failure reaches this caller only while it still waits: then it is delivered here.
      session.settle(ticket).then(
        () => 'done' as const,
        (error: unknown) => {
          if (!settled.signal.aborted) session.forget(ticket);
          throw error;
        },
      ),
      sleep(Math.max(0, deadline - Date.now()), settled.signal).then(
        () => 'timeout' as const,
        () => (signal.aborted ? ('cancelled' as const) : ('done' as const)),
      ),
    ]);
    if (winner === 'cancelled') return await cancel(session, ticket, options);
    if (winner === 'done' || ticket.outcome || ticket.withdrawn || ticket.failure) return await finalReply(session, ticket, options.budget);
    return await stillRunning(session, ticket, options.budget);
  } finally {
    signal.removeEventListener('abort', forwardCancel);
    settled.abort(SETTLED);
    stopProgress();
  }
}

/** The final result of a ticket, marking it delivered. */
export async function finalReply(session: Session<KernelPort>, ticket: CellTicket, budget: OutputBudget): Promise<CellReply> {
  if (ticket.withdrawn) {
    session.forget(ticket);
    return statementReply(session, 'not_run', `The queued ${ticket.description} did not run: ${ticket.withdrawn}.`);
  }
  if (ticket.failure) {
    // Refused when its turn came (e.g. the cell it names was deleted meanwhile): the error, as a cell that did not run.
    session.forget(ticket);
    const error = errorResult(ticket.failure).content[0];
    const why = error?.type === 'text' ? error.text : messageOf(ticket.failure);
    return { ...statementReply(session, 'not_run', `The queued ${ticket.description} did not run.\n${why}`), isError: true };
  }
  // Not awaited before forget: the ticket is delivered once even if a second waiter looks while its images are made.
  const reply = finishedReply(session, ticket, ticket.outcome!, budget, sessionNotes(session));
  session.forget(ticket);
  return reply;
}

/** Partial output of a running (or queued) ticket plus a plain statement of where it stands. */
export async function stillRunning(session: Session<KernelPort>, ticket: CellTicket, budget: OutputBudget): Promise<CellReply> {
  const run = ticket.run;
  if (!run) {
    const ahead = session.current?.run;
    const behind = ahead ? `${runLabel(ahead)} (running for ${seconds(ahead.startedAt)} s)` : 'earlier work';
    return statementReply(
      session,
      'queued',
      `Queued: the ${ticket.description} waits behind ${behind} in session ${session.id}; it runs when that finishes. Call ${suggestedCall('wait_for_cell', { session_id: session.id })} to follow it, or ${suggestedCall('interrupt_kernel', { session_id: session.id })} to stop the running cell and drop the queue.`,
    );
  }
  if (ticket.scratch) return scratchRunningReply(session, ticket, run, budget);
  const cell = { sessionId: session.id, index: run.cellIndex, id: run.cell.id };
  const { content, truncated } = await unseenContent(ticket, run.collector.outputs, cell, budget);
  const notes = session.notebook.takeDiskNotes(); // someone else's edits merged while the cell ran
  content.push({
    type: 'text',
    text: [
      ...notes,
      `[${cellLabel(cell.index, cell.id)} is still running (${seconds(run.startedAt)} s so far) in session ${session.id}. It keeps running and its outputs land in the notebook when it ends. Call ${suggestedCall('wait_for_cell', { session_id: session.id })} for the rest, or ${suggestedCall('interrupt_kernel', { session_id: session.id })} to stop it.]`,
    ].join('\n'),
  });
  return {
    content,
    isError: false,
    data: { ...cellData(session, cell.index, cell.id, 'running'), duration_seconds: Math.round(Date.now() - run.startedAt) / 1000, truncated, notes },
  };
}

async function cancel(session: Session<KernelPort>, ticket: CellTicket, options: WaitOptions): Promise<CellReply> {
  const running = () => (ticket.run && !ticket.scratch ? { index: ticket.run.cellIndex, id: ticket.run.cell.id } : undefined);
  if (!options.interruptOnCancel) return statementReply(session, ticket.run ? 'running' : 'queued', 'Stopped waiting; the cell goes on.', running());
  if (!ticket.run) {
    ticket.withdraw('the request was cancelled');
    session.forget(ticket);
    return statementReply(session, 'not_run', 'Cancelled before it ran.');
  }
  log.info(`session ${session.id}: request cancelled, interrupting ${ticket.description}`);
  // In the background: a kernel that ignores the interrupt is restarted after the grace period
  // when the settings say so; nobody is waiting for this request's answer any more.
  void session.stopCell(ticket, { cause: 'interrupt' }).catch((error: unknown) => log.warn(`interrupt failed: ${messageOf(error)}`));
  // Give the kernel a moment to stop, so the next cell can start at once.
  await within(ticket.done, 5000);
  return ticket.outcome
    ? await finalReply(session, ticket, options.budget)
    : statementReply(session, 'running', 'Cancelled; the kernel was interrupted.', running());
}

/** "cell 3 running 12 s · <newest line>" (or where it waits in the queue), every interval. */
function startCellProgress(session: Session<KernelPort>, ticket: CellTicket, options: WaitOptions): () => void {
  return startProgress(options.ctx, options.progressIntervalMs, (elapsed) => {
    const run = ticket.run;
    return run
      ? `${run.scratch ? 'scratch run' : `cell ${run.cellIndex}`} running ${Math.round((Date.now() - run.startedAt) / 1000)} s${lastLine(run.collector.outputs)}`
      : `queued in session ${session.id} for ${Math.round(elapsed)} s`;
  });
}

function lastLine(outputs: readonly { output_type: string; text?: unknown }[]): string {
  for (let i = outputs.length - 1; i >= 0; i--) {
    const output = outputs[i]!;
    if (output.output_type !== 'stream') continue;
    const tail = String(output.text).slice(-2000);
    const lines = agentText(tail)
      .split('\n')
      .filter((line) => line.trim() !== '');
    const line = lines[lines.length - 1];
    // Why wellFormed: the cut at 200 may split a surrogate pair.
    if (line) return ` · ${line.length > 200 ? `${wellFormed(line.slice(0, 200))}…` : line}`;
  }
  return '';
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}
