import type { CellRun } from './cellRun.js';
import type { CellOutcome } from './cellOutcome.js';

/**
 * A request to run a cell, from the moment it is queued until its outcome is known. The tool
 * call that made it may return early (timeout); the ticket lives on in the session so
 * wait_for_cell can pick up the rest.
 */
export class CellTicket {
  run?: CellRun;
  outcome?: CellOutcome;
  /** Set when the request was withdrawn before it started (cancelled, interrupted, restarted). */
  withdrawn?: string;
  /** The agent has been given the final outcome. */
  delivered = false;
  /** Agent-visible text and image count already returned, for "output since the last look". */
  seenText = '';
  seenImages = 0;
  readonly queuedAt = Date.now();
  readonly started: Promise<CellRun | undefined>;
  readonly done: Promise<CellOutcome | undefined>;
  private resolveStarted!: (run: CellRun | undefined) => void;
  private resolveDone!: (outcome: CellOutcome | undefined) => void;

  /** A scratch run (execute_code with scratch): its cell is in no notebook and nothing of it is recorded. */
  readonly scratch: boolean;

  constructor(
    readonly description: string,
    options: { scratch?: boolean } = {},
  ) {
    this.scratch = options.scratch === true;
    this.started = new Promise((resolve) => (this.resolveStarted = resolve));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  markStarted(run: CellRun): void {
    this.run = run;
    this.resolveStarted(run);
  }

  finish(outcome: CellOutcome): void {
    this.outcome = outcome;
    this.resolveDone(outcome);
  }

  withdraw(reason: string): void {
    if (this.run) return;
    this.withdrawn = reason;
    this.resolveStarted(undefined);
    this.resolveDone(undefined);
  }

  /** Rejected (by validation in the queue) before running: the error goes to whoever waits. */
  fail(error: unknown): void {
    this.failure = error;
    this.resolveStarted(undefined);
    this.resolveDone(undefined);
  }

  failure?: unknown;
}
