import type { CodeCell } from '../notebook/types.js';
import { within } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import type { CellTicket } from './cellTicket.js';
import type { CellOutcome } from './cellOutcome.js';

/** How long a cell stopped for its timeout may take to end before the replay gives up on the kernel, in ms. */
const AFTER_STOP_MS = 15_000;

export interface ReplayOptions {
  /** How long one cell may run before it is interrupted (and its kernel restarted if it ignores that), in ms. */
  cellTimeoutMs: number;
  /** Stop at the first cell that does not end ok. */
  stopOnError: boolean;
}

/** What the replay needs from its session; a seam that keeps this loop apart from the session's locking. */
export interface ReplayHost {
  /** Sends the cell to the kernel now (the replay holds the session's lock) and returns its ticket. */
  start(cell: CodeCell): CellTicket;
  forget(ticket: CellTicket): void;
  indexOf(cell: CodeCell): number;
  /** Interrupts a cell past its timeout, restarting the kernel if it ignores the interrupt. */
  stopCell(ticket: CellTicket): Promise<unknown>;
  flush(): Promise<void>;
}

/**
 * A resume's re-run of a notebook's code cells, in order, one at a time. It lives on after the
 * tool call that started it returns (that call has a timeout); wait_for_cell follows it.
 */
export class Replay {
  readonly total: number;
  readonly outcomes: CellOutcome[] = [];
  /** The cell running now. */
  current?: CellTicket;
  finished = false;
  /** Why it stopped before the last cell (cancelled, kernel died, stop_on_error…). */
  stoppedBecause?: string;
  saveError?: string;
  /** The summary has been returned to the agent. */
  delivered = false;
  readonly startedAt = Date.now();
  done: Promise<void> = Promise.resolve();
  private cancelReason?: string;

  constructor(
    readonly cells: readonly CodeCell[],
    readonly options: ReplayOptions,
  ) {
    this.total = cells.length;
  }

  /** 1-based position of the cell running now (or the count done). */
  get position(): number {
    return this.outcomes.length + (this.current && !this.current.outcome ? 1 : 0);
  }

  get cancelled(): string | undefined {
    return this.cancelReason;
  }

  start(loop: () => Promise<void>): void {
    this.done = loop().finally(() => {
      this.current = undefined;
      this.finished = true;
    });
  }

  /** Stops after the cell running now (the caller interrupts that one if it must). */
  cancel(reason: string): void {
    if (!this.finished) this.cancelReason ??= reason;
  }
}

/**
 * Runs the replay's cells through the host; never throws. While one cell runs, the next one is
 * already sent (the kernel queues it), so the kernel never waits for a round trip between
 * cells. With stop_on_error the requests ask the kernel to abort the cell sent ahead when one
 * fails, and the replay stops there; a cell sent ahead that dies with a kernel restarted to stop
 * the cell before it (cell_timeout) never ran and is sent again.
 */
export async function runReplay(replay: Replay, host: ReplayHost): Promise<void> {
  const cells = replay.cells;
  let ahead: { cell: CodeCell; ticket: CellTicket } | undefined;
  /** Whether the kernel may abort a cell sent ahead now (the cell before it failed). */
  let lastFailed = false;
  /** The cell before was stopped by restarting the kernel: a cell sent ahead died with it, unrun. */
  let lastRestarted = false;
  try {
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      if (replay.cancelled) {
        replay.stoppedBecause = replay.cancelled;
        break;
      }
      if (host.indexOf(cell) < 0) continue; // deleted meanwhile
      let ticket = ahead?.cell === cell ? ahead.ticket : host.start(cell);
      ahead = undefined;
      replay.current = ticket;
      let outcome = await runOne(replay, host, ticket, lastFailed ? undefined : cells[i + 1], (sent) => (ahead = sent));
      const unrun = outcome?.status === 'aborted' || (outcome?.status === 'kernel_died' && lastRestarted);
      if (unrun && !replay.cancelled) {
        // Sent ahead and dropped by the kernel after the cell before failed (or died with the
        // kernel restarted to stop that cell): it never ran.
        host.forget(ticket);
        ticket = host.start(cell);
        replay.current = ticket;
        outcome = await runOne(replay, host, ticket, cells[i + 1], (sent) => (ahead = sent));
      }
      if (!outcome) {
        replay.stoppedBecause =
          ticket.withdrawn ?? (ticket.failure ? messageOf(ticket.failure) : `the kernel did not end cell ${host.indexOf(cell)} after its timeout`);
        if (ticket.failure) host.forget(ticket); // told in the replay's summary, not again by wait_for_cell
        break;
      }
      host.forget(ticket);
      replay.outcomes.push(outcome);
      lastFailed = outcome.status !== 'ok';
      lastRestarted = outcome.status === 'kernel_died' && ticket.run?.stopCause === 'cell_timeout';
      const why = stopReason(outcome, replay.options, ticket);
      if (why) {
        replay.stoppedBecause = why;
        break;
      }
    }
  } catch (error) {
    replay.stoppedBecause = messageOf(error);
  }
  if (ahead) {
    const ran = await settleAhead(replay, host, ahead.ticket);
    // A cell that failed fast may have ended before the one sent ahead reached the kernel, which
    // then ran it rather than aborting it: the summary counts it, and says so.
    if (ran) {
      replay.outcomes.push(ran);
      if (replay.stoppedBecause && !replay.cancelled)
        replay.stoppedBecause += `; cell ${ran.cellIndex} had already been sent to the kernel and ran all the same`;
    }
  }
  try {
    await host.flush();
  } catch (error) {
    replay.saveError = messageOf(error);
  }
}

/** Sends `following` ahead (when there is one and the replay goes on), then waits for `ticket` under the cell timeout. */
async function runOne(
  replay: Replay,
  host: ReplayHost,
  ticket: CellTicket,
  following: CodeCell | undefined,
  sentAhead: (sent: { cell: CodeCell; ticket: CellTicket }) => void,
): Promise<CellOutcome | undefined> {
  if (following && !replay.cancelled && host.indexOf(following) >= 0) sentAhead({ cell: following, ticket: host.start(following) });
  return withCellTimeout(ticket, replay.options.cellTimeoutMs, () => host.stopCell(ticket));
}

/**
 * The cell sent ahead of a replay that stopped: usually aborted by the kernel (the last cell
 * failed); if it runs, a cancelled replay interrupts it. Either way it ends before the session
 * takes the next request. Its outcome when it did run, undefined when the kernel aborted it.
 */
async function settleAhead(replay: Replay, host: ReplayHost, ticket: CellTicket): Promise<CellOutcome | undefined> {
  if (replay.cancelled && !(await within(ticket.done, 200))) await host.stopCell(ticket);
  const settled = await within(ticket.done, AFTER_STOP_MS);
  host.forget(ticket);
  const outcome = settled?.value;
  return outcome?.status === 'ok' || outcome?.status === 'error' ? outcome : undefined;
}

/** The ticket's outcome; past `timeoutMs` the cell is stopped, and a kernel that then never ends it gives undefined. */
async function withCellTimeout(ticket: CellTicket, timeoutMs: number, stop: () => Promise<unknown>): Promise<CellOutcome | undefined> {
  const inTime = await within(ticket.done, timeoutMs);
  if (inTime) return inTime.value;
  await stop();
  return (await within(ticket.done, AFTER_STOP_MS))?.value;
}

function stopReason(outcome: CellOutcome, options: ReplayOptions, ticket: CellTicket): string | undefined {
  if (outcome.status === 'server_lost') return 'the Jupyter server was lost';
  const timedOut = ticket.run?.stopCause === 'cell_timeout';
  if (outcome.status === 'kernel_died' && !timedOut) return `the kernel died while running cell ${outcome.cellIndex}`;
  if (options.stopOnError && outcome.status !== 'ok') return `cell ${outcome.cellIndex} failed and stop_on_error is set`;
  return undefined;
}
