import type { KernelHandle } from '../jupyter/kernel.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import type { NotebookDocument } from '../notebook/document.js';
import type { Cell, CodeCell } from '../notebook/types.js';
import { capitalize, refLabel, type CellRef, type InsertRef } from '../notebook/cellRef.js';
import { resolveMoveTarget, type MoveTarget } from '../notebook/moveTarget.js';
import { JlabError, messageOf } from '../util/errors.js';
import { within } from '../util/deadline.js';
import { log } from '../util/log.js';
import { Mutex } from '../util/mutex.js';
import type { CellOutcome } from './cellOutcome.js';
import { CellRun, type CellRunOptions, type StopCause } from './cellRun.js';
import { CellTicket } from './cellTicket.js';
import { assertRunnableCode } from './codeCheck.js';
import { Replay, runReplay, type ReplayOptions } from './replay.js';
import { SCRATCH_NOTEBOOK, scratchCell } from './scratchRun.js';
import type { ProvenanceTracker } from './provenanceTracker.js';
import type { ServerSupervisor } from './serverSupervisor.js';
import { suggestedCall } from '../mcp/suggestedCall.js';

/** Finished cells whose results are kept for wait_for_cell until someone reads them. */
const MAX_UNDELIVERED = 20;
/** How long a cell may take to end once its kernel was restarted or shut down under it, in ms. */
const END_AFTER_KILL_MS = 10_000;

export type { CellOutcome } from './cellOutcome.js';

/** Told when a cell has been running long enough to matter after a restart, and when it ends. */
export type RunningListener = (running: { msgId: string; cellId: string; startedAt: number } | undefined) => void;

/** A cell that runs past this many ms is recorded as running (the registry), like its running mark. */
const RECORD_RUNNING_AFTER_MS = 1000;

export interface SessionOptions {
  /** Characters one stream output keeps in the notebook. */
  outputLimit: number;
  /** A running cell's output is saved at least this often, in ms. */
  saveIntervalMs: number;
  /** How long a kernel may stay busy after an interrupt before it counts as ignoring it, in ms. */
  interruptGraceMs: number;
  /** Restart a kernel that ignores an interrupt without being asked (force) to. */
  restartIgnoredInterrupt: boolean;
  /** Where runs' provenance is gathered (the session manager's); without one, runs are recorded without a context. */
  provenance?: ProvenanceTracker;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  outputLimit: 2_000_000,
  saveIntervalMs: 3000,
  interruptGraceMs: 10_000,
  restartIgnoredInterrupt: false,
};

/** How an interrupt went: no cell was running; the cell stopped; it ignored the interrupt; the kernel was restarted. */
export type InterruptState = 'idle' | 'stopped' | 'still_busy' | 'restarted';

export interface InterruptReport {
  running?: CellTicket;
  dropped: number;
  state: InterruptState;
}

/**
 * A kernel and the notebook it writes. Cells run one at a time, in arrival order (a FIFO lock);
 * sessions run in parallel. Markdown edits and deletions never wait for a running cell: they
 * change the in-memory notebook at once, and a running cell's outputs still land in its own
 * cell (runs hold the cell, not its index). A cell keeps running after the tool call that
 * started it returned (timeout); its ticket stays here for wait_for_cell. A session whose
 * server was lost refuses work with a message that says how to go on.
 *
 * The session itself uses only {@link KernelPort} of its kernel. `K` is what its owner put in:
 * the app's sessions hold the real KernelHandle (introspection and the registry use more of it,
 * hence the default), the unit tests a scripted fake.
 */
export class Session<K extends KernelPort = KernelHandle> {
  private readonly lock = new Mutex();
  private lostReason?: string;
  private closing = false;
  private readonly tickets: CellTicket[] = [];
  /** The resume replay, while it runs and until its summary was delivered. */
  replay?: Replay;
  lastActivity = Date.now();
  private readonly options: SessionOptions;
  /** The session registry's hook (sessions that outlive jlab-mcp). */
  onRunning?: RunningListener;

  constructor(
    readonly id: string,
    readonly experimentName: string,
    kernel: K,
    readonly notebook: NotebookDocument,
    supervisor: ServerSupervisor,
    options: Partial<SessionOptions> = {},
  ) {
    this.options = { ...DEFAULT_SESSION_OPTIONS, ...options };
    notebook.fullSaveIntervalMs = this.options.saveIntervalMs;
    notebook.journaled = true;
    this.currentKernel = kernel;
    this.currentSupervisor = supervisor;
  }

  // Only a move to a new job (walltime) replaces these; everyone else reads them.
  private currentKernel: K;
  private currentSupervisor: ServerSupervisor;

  get kernel(): K {
    return this.currentKernel;
  }

  /** The server this session's kernel runs on. */
  get supervisor(): ServerSupervisor {
    return this.currentSupervisor;
  }

  get notebookPath(): string {
    return this.notebook.path;
  }

  get lost(): string | undefined {
    return this.lostReason;
  }

  markLost(reason: string): void {
    if (this.lostReason) return;
    this.lostReason = reason;
    this.replay?.cancel('the Jupyter server was lost');
    this.withdrawQueued('the Jupyter server was lost');
    this.kernel.abandon();
  }

  /** The cell running now, if any. */
  get current(): CellTicket | undefined {
    return this.tickets.find((ticket) => ticket.run && !ticket.run.finished);
  }

  /** Tickets queued behind the running cell. */
  get queued(): CellTicket[] {
    return this.tickets.filter((ticket) => !ticket.run && !ticket.withdrawn && !ticket.failure);
  }

  /** Finished cells whose final outcome no tool call has returned yet. */
  undelivered(): CellTicket[] {
    // A queued cell refused when its turn came (its cell deleted meanwhile) counts too: its caller may have returned "queued".
    return this.tickets.filter((ticket) => (ticket.outcome || ticket.failure) && !ticket.delivered);
  }

  forget(ticket: CellTicket): void {
    ticket.delivered = true;
    const index = this.tickets.indexOf(ticket);
    if (index >= 0 && (ticket.outcome || ticket.failure)) this.tickets.splice(index, 1);
  }

  /** Appends (or inserts where `where` says) a code cell and queues it to run. */
  executeCode(code: string, where: InsertRef = {}): CellTicket {
    assertRunnableCode(code);
    this.notebook.resolveInsert(where);
    return this.enqueue(`new cell: ${firstLine(code)}`, () => {
      const cell = this.notebook.newCodeCell(code);
      // Resolved again when it runs: by id, it lands next to that cell wherever it is by then.
      this.notebook.insert(cell, this.notebook.resolveInsert(where));
      return cell;
    });
  }

  /**
   * Queues code to run in the kernel like a cell (after whatever is queued, never between a
   * replay's cells) but records nothing: no cell, no save, store_history=false so the execution
   * count stays. wait_for_cell and interrupt_kernel see it as the running "cell".
   */
  executeScratch(code: string): CellTicket {
    assertRunnableCode(code);
    return this.enqueue(`scratch run: ${firstLine(code)}`, () => scratchCell(code), { scratch: true });
  }

  /** Replaces a code cell's source (the cell checked first, now and again when it runs) and re-runs it. */
  editCell(ref: CellRef, code: string): CellTicket {
    assertRunnableCode(code);
    const target = this.notebook.codeCellAt(ref);
    return this.enqueue(`edit of ${refLabel(ref)}`, () => {
      if (this.notebook.indexOf(target) < 0) throw deletedMeanwhile(ref, 'before the edit could run');
      target.source = code;
      this.notebook.changed(target);
      return target;
    });
  }

  /** Runs an existing code cell as it is. */
  runCell(ref: CellRef): CellTicket {
    const target = this.notebook.codeCellAt(ref);
    assertRunnableCode(target.source);
    return this.enqueue(`re-run of ${refLabel(ref)}`, () => {
      if (this.notebook.indexOf(target) < 0) throw deletedMeanwhile(ref, 'before it could run');
      return target;
    });
  }

  async addMarkdown(markdown: string, where: InsertRef = {}): Promise<{ index: number; cell: Cell }> {
    this.assertUsable();
    const position = this.notebook.resolveInsert(where);
    const cell = this.notebook.newMarkdownCell(markdown);
    this.notebook.insert(cell, position);
    await this.notebook.save();
    return { index: this.notebook.indexOf(cell), cell };
  }

  async editMarkdown(ref: CellRef, markdown: string): Promise<{ index: number; cell: Cell }> {
    this.assertUsable();
    const cell = this.notebook.markdownCellAt(ref);
    cell.source = markdown;
    this.notebook.changed(cell);
    await this.notebook.save();
    return { index: this.notebook.indexOf(cell), cell };
  }

  async deleteCell(ref: CellRef): Promise<{ index: number; cell: Cell }> {
    this.assertUsable();
    const position = this.notebook.resolveCell(ref);
    if (this.current?.run?.cell === this.notebook.cells[position]) {
      throw new JlabError('INVALID_ARGUMENT', `${capitalize(refLabel(ref))} is running; interrupt it first (interrupt_kernel).`);
    }
    const removed = this.notebook.remove(position);
    await this.notebook.save();
    return { index: position, cell: removed };
  }

  /**
   * Moves a cell, id kept, without waiting for a running cell: a run holds its cell, not its
   * index, so its outputs follow it. Edits someone made to the file are merged in first, so the
   * move applies to the notebook as they left it (a merge after it keeps their order if they
   * reordered too).
   */
  async moveCell(ref: CellRef, to: MoveTarget): Promise<{ from: number; index: number; cell: Cell }> {
    this.assertUsable();
    await this.notebook.refresh();
    const from = this.notebook.resolveCell(ref);
    const index = resolveMoveTarget(this.notebook.cells, from, to);
    const cell = this.notebook.move(from, index);
    if (index !== from) await this.notebook.save();
    return { from, index, cell };
  }

  /**
   * Empties the outputs and execution count of one code cell, or of every code cell but a
   * running one (`'all'`), without waiting for a running cell. A running cell is refused by
   * name: its run would write its outputs back at the next message. Returns the cells it changed.
   */
  async clearOutputs(target: CellRef | 'all'): Promise<{ cleared: CodeCell[]; skipped?: CodeCell }> {
    this.assertUsable();
    const running = this.current?.run?.cell;
    if (target !== 'all') {
      const cell = this.notebook.codeCellAt(target);
      if (cell === running) {
        throw new JlabError('KERNEL_UNAVAILABLE', `${capitalize(refLabel(target))} is running; its outputs are still being written.`, {
          hint: `Wait for it with ${suggestedCall('wait_for_cell', { session_id: this.id })} or stop it with ${suggestedCall('interrupt_kernel', { session_id: this.id })}, then clear it.`,
          context: { sessionId: this.id, cellId: cell.id },
        });
      }
    }
    const candidates =
      target === 'all' ? this.notebook.cells.filter((cell): cell is CodeCell => cell.cell_type === 'code') : [this.notebook.codeCellAt(target)];
    const cleared: CodeCell[] = [];
    for (const cell of candidates) {
      if (cell === running || (cell.outputs.length === 0 && cell.execution_count === null)) continue;
      cell.outputs = [];
      cell.execution_count = null;
      this.notebook.changed(cell);
      cleared.push(cell);
    }
    if (cleared.length) await this.notebook.save();
    return { cleared, ...(target === 'all' && running && this.notebook.indexOf(running) >= 0 ? { skipped: running } : {}) };
  }

  /**
   * Starts re-running every code cell in order (resume); the replay goes on after the call that
   * started it returns. It holds the session's lock throughout, so no other cell runs between
   * its cells.
   */
  startReplay(options: ReplayOptions): Replay {
    this.assertUsable();
    const replay = new Replay(
      this.notebook.cells.filter((cell): cell is CodeCell => cell.cell_type === 'code' && cell.source.trim() !== ''),
      options,
    );
    this.replay = replay;
    const host = {
      start: (cell: CodeCell) => {
        const ticket = this.track(new CellTicket(`replay of cell ${this.notebook.indexOf(cell)}`));
        void this.runTicket(ticket, () => cell, { saveWhenDone: false, stopOnError: options.stopOnError });
        return ticket;
      },
      forget: (ticket: CellTicket) => this.forget(ticket),
      indexOf: (cell: CodeCell) => this.notebook.indexOf(cell),
      stopCell: (ticket: CellTicket) => this.stopCell(ticket, { cause: 'cell_timeout', force: true }),
      flush: () => this.notebook.save(),
    };
    replay.start(() => this.lock.run(() => runReplay(replay, host)));
    return replay;
  }

  /**
   * Moves the session to a fresh kernel, possibly on another server (the walltime move to a new
   * SLURM job): same id and notebook; the caller replays the notebook (startReplay). A cell still
   * running keeps its old kernel until it ends. Returns the old kernel, for the caller to let go.
   */
  moveTo(kernel: K, supervisor: ServerSupervisor = this.supervisor): K {
    this.assertUsable();
    const old = this.currentKernel;
    this.currentKernel = kernel;
    this.currentSupervisor = supervisor;
    return old;
  }

  /** Waits for a ticket's outcome; rethrows a validation failure from the queue. */
  async settle(ticket: CellTicket): Promise<CellOutcome | undefined> {
    const outcome = await ticket.done;
    if (ticket.failure) throw ticket.failure;
    return outcome;
  }

  /** Withdraws every queued (not yet started) cell; returns how many. */
  withdrawQueued(reason: string): number {
    const queued = this.queued;
    for (const ticket of queued) ticket.withdraw(reason);
    this.tickets.splice(0, this.tickets.length, ...this.tickets.filter((t) => !t.withdrawn));
    return queued.length;
  }

  /**
   * Interrupts the running cell (KeyboardInterrupt in Python) and drops the queue and any
   * replay. If the cell is still running after the grace period it ignored the interrupt (a
   * debugger, C code, a handler that swallows KeyboardInterrupt): with `force` (or the
   * restart setting) the kernel is restarted so nothing waits on it; otherwise that is reported.
   */
  async interrupt(options: { force?: boolean } = {}): Promise<InterruptReport> {
    this.assertUsable();
    this.replay?.cancel('the kernel was interrupted');
    const running = this.current;
    const dropped = this.withdrawQueued('the kernel was interrupted');
    if (!running) {
      await this.kernel.interrupt();
      return { dropped, state: 'idle' };
    }
    const state = await this.stopCell(running, { cause: 'interrupt', force: options.force });
    return { running, dropped, state };
  }

  /**
   * Stops one running cell: interrupt, wait up to the grace period, then (with `force` or the
   * restart setting) restart the kernel. The queue is left alone.
   */
  async stopCell(ticket: CellTicket, options: { cause: StopCause; force?: boolean }): Promise<InterruptState> {
    const run = ticket.run;
    if (!run || run.finished) return 'idle';
    run.stopCause = options.cause;
    try {
      await this.kernel.interrupt();
    } catch (error) {
      log.warn(`session ${this.id}: interrupt failed (${messageOf(error)}); waiting for the grace period anyway`);
    }
    if (await endsWithin(ticket, this.options.interruptGraceMs)) return 'stopped';
    if (!(options.force ?? this.options.restartIgnoredInterrupt)) return 'still_busy';
    log.warn(`session ${this.id}: ${ticket.description} ignored the interrupt for ${this.options.interruptGraceMs / 1000} s; restarting the kernel`);
    if (options.cause === 'interrupt') run.stopCause = 'escalated_restart';
    await this.kernel.restart();
    await endsWithin(ticket, END_AFTER_KILL_MS);
    return 'restarted';
  }

  /** Restarts the kernel: state is gone, the notebook keeps its cells, the session goes on. */
  async restart(): Promise<{ running?: CellTicket; dropped: number }> {
    this.assertUsable();
    this.replay?.cancel('the kernel was restarted');
    const running = this.current;
    const dropped = this.withdrawQueued('the kernel was restarted');
    if (running?.run) running.run.stopCause = 'restart';
    await this.kernel.restart();
    if (running) await endsWithin(running, END_AFTER_KILL_MS);
    return { running, dropped };
  }

  /**
   * Lets go of the session at exit with the keep policy: the kernel (and a running cell) goes on,
   * the running cell is recorded for the next jlab-mcp, the notebook is written as it stands.
   * Queued cells that never started are dropped. Never throws.
   */
  async detach(): Promise<void> {
    this.closing = true;
    this.replay?.cancel('jlab-mcp exited');
    this.withdrawQueued('jlab-mcp exited before it ran');
    const run = this.current?.run;
    if (run && !run.scratch) this.onRunning?.({ msgId: run.msgId, cellId: run.cell.id, startedAt: run.startedAt });
    await this.notebook.flush().catch((error: unknown) => log.warn(`session ${this.id}: final save: ${messageOf(error)}`));
  }

  /**
   * Ends the session: queued work and any replay dropped, the kernel shut down, the running
   * cell recorded with what it printed so far, the notebook written. Never throws.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.replay?.cancel('the session was shut down');
    this.withdrawQueued('the session was shut down');
    const running = this.current;
    if (running?.run) running.run.stopCause = 'shutdown';
    await this.kernel.shutdown();
    if (running) await endsWithin(running, END_AFTER_KILL_MS);
    await this.notebook.flush().catch((error: unknown) => log.warn(`session ${this.id}: final save: ${messageOf(error)}`));
  }

  /** Queues a cell: it runs when the cells before it (and any replay) are done. */
  private enqueue(description: string, prepare: () => CodeCell, options: { scratch?: boolean } = {}): CellTicket {
    this.assertUsable();
    const ticket = this.track(new CellTicket(description, options));
    // Never between a replay's cells: the replay holds the lock, and this waits for it to end.
    const replayRunning = this.replay && !this.replay.finished ? this.replay.done : undefined;
    void (replayRunning ?? Promise.resolve())
      .then(() => this.lock.run(() => this.runTicket(ticket, prepare, { saveWhenDone: true, scratch: options.scratch })))
      .catch((error: unknown) => log.error(`session ${this.id}: ${String(error)}`));
    return ticket;
  }

  /**
   * Takes over a cell an earlier jlab-mcp left running (reattach): its output so far (from the
   * kernel's spool) and to come land in the cell, and wait_for_cell follows it as any other.
   */
  follow(cell: CodeCell, running: { msgId: string; startedAt: number }): CellTicket {
    const ticket = this.track(new CellTicket(`cell ${this.notebook.indexOf(cell)} (running since before jlab-mcp restarted)`));
    const run = new CellRun(cell, this.kernel, this.notebook, this.runOptions({ saveWhenDone: true }), running);
    void this.lock.run(() => this.awaitRun(ticket, run)).catch((error: unknown) => log.error(`session ${this.id}: ${String(error)}`));
    return ticket;
  }

  private runOptions(how: RunHow): CellRunOptions {
    // A scratch run's provenance goes to a tracker of its own, into its detached cell: no run history records it.
    const provenance = how.scratch ? undefined : this.options.provenance;
    return { outputLimit: this.options.outputLimit, saveIntervalMs: this.options.saveIntervalMs, provenance, ...how };
  }

  /** Waits for a started run, telling the registry about it if it runs long enough to matter. */
  private async awaitRun(ticket: CellTicket, run: CellRun): Promise<void> {
    ticket.markStarted(run);
    let recorded = false;
    const record = () => {
      // A scratch run is no cell of the notebook: a later jlab-mcp could not reattach to it.
      if (run.finished || run.scratch) return;
      recorded = true;
      this.onRunning?.({ msgId: run.msgId, cellId: run.cell.id, startedAt: run.startedAt });
    };
    const timer = setTimeout(record, Math.max(0, RECORD_RUNNING_AFTER_MS - (Date.now() - run.startedAt)));
    timer.unref();
    try {
      const result = await run.done;
      ticket.finish({ ...result, cellIndex: run.cellIndex, cellId: run.cell.id });
    } finally {
      clearTimeout(timer);
      if (recorded) this.onRunning?.(undefined);
    }
  }

  /** Adds a ticket to the session's list, dropping the oldest results nobody came back for. */
  private track(ticket: CellTicket): CellTicket {
    this.lastActivity = Date.now();
    // Results nobody came back for are kept for wait_for_cell, but not without end: their
    // outputs are in the notebook anyway.
    const stale = this.undelivered();
    for (const old of stale.slice(0, Math.max(0, stale.length - MAX_UNDELIVERED + 1))) this.forget(old);
    this.tickets.push(ticket);
    return ticket;
  }

  /** Runs a ticket's cell now (the caller holds the lock); failures go to the ticket, never thrown. */
  private async runTicket(ticket: CellTicket, prepare: () => CodeCell, how: RunHow): Promise<void> {
    if (ticket.withdrawn) return;
    try {
      this.assertUsable();
      const cell = prepare();
      await this.awaitRun(ticket, new CellRun(cell, this.kernel, how.scratch ? SCRATCH_NOTEBOOK : this.notebook, this.runOptions(how)));
    } catch (error) {
      // Kept until delivered (settle, or wait_for_cell when the call that queued it has returned).
      ticket.fail(error);
    } finally {
      this.lastActivity = Date.now();
    }
  }

  private assertUsable(): void {
    if (this.lostReason) {
      throw new JlabError('SERVER_LOST', `Session ${this.id} cannot run code: ${this.lostReason}`, {
        hint: `Its notebook is intact. Start again with ${suggestedCall('start_session_resume_notebook', { notebook_path: this.notebookPath })} to re-run it on a new kernel.`,
        context: { sessionId: this.id, kernelId: this.kernel.id },
      });
    }
    if (this.kernel.status === 'dead') {
      const why = this.kernel.gone ? 'its kernel no longer exists on the Jupyter server (shut down from outside?)' : 'its kernel is dead';
      throw new JlabError('KERNEL_DIED', `Session ${this.id} cannot run code: ${why}.`, {
        // The session still holds the notebook, so it is shut down before the resume takes it over.
        hint: `Its notebook is intact. Call ${suggestedCall('shutdown_session', { session_id: this.id })}, then ${suggestedCall('start_session_resume_notebook', { notebook_path: this.notebookPath })} to re-run it on a new kernel.`,
        context: { sessionId: this.id, kernelId: this.kernel.id },
      });
    }
    if (this.closing) {
      throw new JlabError('SHUTTING_DOWN', `Session ${this.id} is shutting down.`, {
        hint: `Its notebook is saved at ${this.notebookPath}; once the shutdown is done, ${suggestedCall('start_session_resume_notebook', { notebook_path: this.notebookPath })} brings it back.`,
      });
    }
  }
}

/** How a queued request runs: recorded (saved when done, or on a replay's schedule) or as a scratch run. */
type RunHow = Pick<CellRunOptions, 'saveWhenDone' | 'stopOnError' | 'scratch'>;

/** True when the ticket ended (or never started) within `ms`. */
async function endsWithin(ticket: CellTicket, ms: number): Promise<boolean> {
  return (await within(ticket.done, ms)) !== undefined;
}

/** A cell the agent named was deleted while its request waited in the queue. */
function deletedMeanwhile(ref: CellRef, when: string): JlabError {
  return new JlabError(ref.id !== undefined ? 'CELL_NOT_FOUND' : 'CELL_INDEX_OUT_OF_RANGE', `${capitalize(refLabel(ref))} was deleted ${when}.`);
}

function firstLine(code: string): string {
  const line = code.split('\n', 1)[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
