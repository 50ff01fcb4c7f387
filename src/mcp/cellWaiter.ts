import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { agentText } from '../output/agentContent.js';
import { wellFormed } from '../output/wellFormed.js';
import type { CellTicket } from '../sessions/cellTicket.js';
import type { Session } from '../sessions/session.js';
import { sleep, within } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { startProgress } from './progress.js';
import { finishedContent, isFailure, unseenContent, type OutputBudget } from './cellResult.js';
import { sessionNotes } from './walltimeNotices.js';

export interface WaitOptions {
  timeoutMs: number;
  budget: OutputBudget;
  ctx: ServerContext;
  /** Cancelling the request interrupts the cell (execute_code); for wait_for_cell it only stops waiting. */
  interruptOnCancel: boolean;
  progressIntervalMs: number;
}

type Content = CallToolResult['content'];

/**
 * Waits for a ticket until it finishes, the timeout passes, or the request is cancelled —
 * sending MCP progress notifications meanwhile when the client asked for them. A timeout never
 * stops the cell: the result says it is still running and how to get the rest.
 */
export async function awaitTicket(session: Session, ticket: CellTicket, options: WaitOptions): Promise<CallToolResult> {
  const { ctx } = options;
  const deadline = Date.now() + options.timeoutMs;
  const signal = ctx.mcpReq.signal;
  const stopProgress = startCellProgress(session, ticket, options);
  // Ends the timeout's timer once the race is decided; a cancelled request ends it too.
  const settled = new AbortController();
  const forwardCancel = () => settled.abort();
  signal.addEventListener('abort', forwardCancel, { once: true });
  if (signal.aborted) settled.abort();
  try {
    const winner = await Promise.race([
      session.settle(ticket).then(() => 'done' as const),
      sleep(Math.max(0, deadline - Date.now()), settled.signal).then(
        () => 'timeout' as const,
        () => (signal.aborted ? ('cancelled' as const) : ('done' as const)),
      ),
    ]);
    if (winner === 'cancelled') return await cancel(session, ticket, options);
    if (winner === 'done' || ticket.outcome || ticket.withdrawn) return finalResult(session, ticket, options.budget);
    return { content: stillRunning(session, ticket, options.budget) };
  } finally {
    signal.removeEventListener('abort', forwardCancel);
    settled.abort();
    stopProgress();
  }
}

/** The final result of a ticket, marking it delivered. */
export function finalResult(session: Session, ticket: CellTicket, budget: OutputBudget): CallToolResult {
  if (ticket.withdrawn) {
    session.forget(ticket);
    return { content: [{ type: 'text', text: `The queued ${ticket.description} did not run: ${ticket.withdrawn}.` }] };
  }
  const outcome = ticket.outcome!;
  const content = finishedContent(session.id, session.notebookPath, ticket, outcome, budget, sessionNotes(session));
  session.forget(ticket);
  return { content, isError: isFailure(outcome) };
}

/** Partial output of a running (or queued) ticket plus a plain statement of where it stands. */
export function stillRunning(session: Session, ticket: CellTicket, budget: OutputBudget): Content {
  const run = ticket.run;
  if (!run) {
    const ahead = session.current;
    const behind = ahead?.run ? `cell ${ahead.run.cellIndex} (running for ${seconds(ahead.run.startedAt)} s)` : 'earlier work';
    return [
      {
        type: 'text',
        text: `Queued: the ${ticket.description} waits behind ${behind} in session ${session.id}; it runs when that finishes. Call wait_for_cell(session_id="${session.id}") to follow it, or interrupt_kernel to stop the running cell and drop the queue.`,
      },
    ];
  }
  const label = `cell ${run.cellIndex}`;
  const content = unseenContent(ticket, run.collector.outputs, label, budget);
  content.push({
    type: 'text',
    text: `[${label} is still running (${seconds(run.startedAt)} s so far) in session ${session.id}. It keeps running and its outputs land in the notebook when it ends. Call wait_for_cell(session_id="${session.id}") for the rest, or interrupt_kernel to stop it.]`,
  });
  return content;
}

async function cancel(session: Session, ticket: CellTicket, options: WaitOptions): Promise<CallToolResult> {
  if (!options.interruptOnCancel) return { content: [{ type: 'text', text: 'Stopped waiting; the cell goes on.' }] };
  if (!ticket.run) {
    ticket.withdraw('the request was cancelled');
    session.forget(ticket);
    return { content: [{ type: 'text', text: 'Cancelled before it ran.' }] };
  }
  log.info(`session ${session.id}: request cancelled, interrupting ${ticket.description}`);
  // In the background: a kernel that ignores the interrupt is restarted after the grace period
  // when the settings say so; nobody is waiting for this request's answer any more.
  void session.stopCell(ticket, { cause: 'interrupt' }).catch((error: unknown) => log.warn(`interrupt failed: ${messageOf(error)}`));
  // Give the kernel a moment to stop, so the next cell can start at once.
  await within(ticket.done, 5000);
  return ticket.outcome ? finalResult(session, ticket, options.budget) : { content: [{ type: 'text', text: 'Cancelled; the kernel was interrupted.' }] };
}

/** "cell 3 running 12 s · <newest line>" (or where it waits in the queue), every interval. */
function startCellProgress(session: Session, ticket: CellTicket, options: WaitOptions): () => void {
  return startProgress(options.ctx, options.progressIntervalMs, (elapsed) => {
    const run = ticket.run;
    return run
      ? `cell ${run.cellIndex} running ${Math.round((Date.now() - run.startedAt) / 1000)} s${lastLine(run.collector.outputs)}`
      : `queued in session ${session.id} for ${Math.round(elapsed)} s`;
  });
}

function lastLine(outputs: readonly { output_type: string; text?: unknown }[]): string {
  for (let i = outputs.length - 1; i >= 0; i--) {
    const output = outputs[i]!;
    if (output.output_type !== 'stream') continue;
    const tail = String(output.text).slice(-2000);
    const lines = agentText(tail).split('\n').filter((line) => line.trim() !== '');
    const line = lines[lines.length - 1];
    // Why wellFormed: the cut at 200 may split a surrogate pair.
    if (line) return ` · ${line.length > 200 ? `${wellFormed(line.slice(0, 200))}…` : line}`;
  }
  return '';
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}
