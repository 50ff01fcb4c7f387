import type { KernelHandle } from '../jupyter/kernel.js';
import type { NotebookDocument } from '../notebook/document.js';
import type { Cell, CodeCell } from '../notebook/types.js';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { Mutex } from '../util/mutex.js';
import { CellRun, type CellRunResult } from './cellRun.js';
import { CellTicket } from './cellTicket.js';
import type { ServerSupervisor } from './serverSupervisor.js';

/** Finished cells whose results are kept for wait_for_cell until someone reads them. */
const MAX_UNDELIVERED = 20;

export interface CellOutcome extends CellRunResult {
  cellIndex: number;
  cellId: string;
}

/**
 * A kernel and the notebook it writes. Work on one session runs one at a time, in arrival order
 * (a FIFO lock); sessions run in parallel. A cell keeps running after the tool call that
 * started it returned (timeout); its ticket stays here for wait_for_cell. A session whose
 * server was lost refuses work with a message that says how to go on.
 */
export class Session {
  private readonly lock = new Mutex();
  private lostReason?: string;
  private readonly tickets: CellTicket[] = [];
  lastActivity = Date.now();

  constructor(
    readonly id: string,
    readonly experimentName: string,
    readonly kernel: KernelHandle,
    readonly notebook: NotebookDocument,
    /** The server this session's kernel runs on. */
    readonly supervisor: ServerSupervisor,
    private readonly outputLimit = 2_000_000,
  ) {}

  get notebookPath(): string {
    return this.notebook.path;
  }

  get lost(): string | undefined {
    return this.lostReason;
  }

  markLost(reason: string): void {
    if (this.lostReason) return;
    this.lostReason = reason;
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
    return this.tickets.filter((ticket) => ticket.outcome && !ticket.delivered);
  }

  forget(ticket: CellTicket): void {
    ticket.delivered = true;
    const index = this.tickets.indexOf(ticket);
    if (index >= 0 && ticket.outcome) this.tickets.splice(index, 1);
  }

  /** Appends (or inserts at `cellIndex`) a code cell and queues it to run. */
  executeCode(code: string, cellIndex?: number): CellTicket {
    this.notebook.resolveInsertIndex(cellIndex);
    return this.enqueue(`new cell: ${firstLine(code)}`, () => {
      const cell = this.notebook.newCodeCell(code);
      this.notebook.insert(cell, this.notebook.resolveInsertIndex(cellIndex));
      return cell;
    });
  }

  /** Replaces a code cell's source (index checked first, now and again when it runs) and re-runs it. */
  editCell(cellIndex: number, code: string): CellTicket {
    const target = this.notebook.codeCellAt(cellIndex);
    return this.enqueue(`edit of cell ${cellIndex}`, () => {
      if (this.notebook.indexOf(target) < 0) throw new JlabError('CELL_INDEX_OUT_OF_RANGE', `Cell ${cellIndex} was deleted before the edit could run.`);
      target.source = code;
      this.notebook.changed(target);
      return target;
    });
  }

  /** Runs an existing code cell as it is. */
  runCell(cellIndex: number): CellTicket {
    const target = this.notebook.codeCellAt(cellIndex);
    return this.enqueue(`re-run of cell ${cellIndex}`, () => {
      if (this.notebook.indexOf(target) < 0) throw new JlabError('CELL_INDEX_OUT_OF_RANGE', `Cell ${cellIndex} was deleted before it could run.`);
      return target;
    });
  }

  addMarkdown(markdown: string, cellIndex?: number): Promise<number> {
    return this.exclusive(async () => {
      const position = this.notebook.resolveInsertIndex(cellIndex);
      this.notebook.insert(this.notebook.newMarkdownCell(markdown), position);
      await this.notebook.save();
      return position;
    });
  }

  editMarkdown(cellIndex: number, markdown: string): Promise<number> {
    return this.exclusive(async () => {
      const cell = this.notebook.markdownCellAt(cellIndex);
      cell.source = markdown;
      this.notebook.changed(cell);
      await this.notebook.save();
      return this.notebook.indexOf(cell);
    });
  }

  deleteCell(cellIndex: number): Promise<Cell> {
    return this.exclusive(async () => {
      const position = this.notebook.resolveIndex(cellIndex);
      if (this.current?.run?.cell === this.notebook.cells[position]) {
        throw new JlabError('INVALID_ARGUMENT', `Cell ${cellIndex} is running; interrupt it first (interrupt_kernel).`);
      }
      const removed = this.notebook.remove(position);
      await this.notebook.save();
      return removed;
    });
  }

  /** Runs every code cell in order (resume); returns each cell's outcome. Stops if the kernel dies. */
  async replayAll(): Promise<CellOutcome[]> {
    const outcomes: CellOutcome[] = [];
    for (const cell of [...this.notebook.cells]) {
      if (cell.cell_type !== 'code' || cell.source.trim() === '') continue;
      const ticket = this.enqueue(`replay of cell ${this.notebook.indexOf(cell)}`, () => cell);
      const outcome = await this.settle(ticket);
      if (!outcome) break;
      this.forget(ticket);
      outcomes.push(outcome);
      if (outcome.status === 'kernel_died' || outcome.status === 'server_lost') break;
    }
    return outcomes;
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

  /** Sends an interrupt (SIGINT for ipykernel) to the kernel; queued cells are dropped, as Jupyter does. */
  interrupt(): Promise<{ running?: CellTicket; dropped: number }> {
    return this.stopRunning('interrupted', (run) => (run.interruptRequested = true), () => this.kernel.interrupt());
  }

  /** Restarts the kernel: state is gone, the notebook keeps its cells, the session goes on. */
  restart(): Promise<{ running?: CellTicket; dropped: number }> {
    return this.stopRunning('kernel restarted', (run) => (run.restartRequested = true), () => this.kernel.restart());
  }

  /** Drops the queue, labels the running cell with what is about to happen to it, then does it. */
  private async stopRunning(reason: string, label: (run: CellRun) => void, act: () => Promise<void>): Promise<{ running?: CellTicket; dropped: number }> {
    this.assertUsable();
    const running = this.current;
    const dropped = this.withdrawQueued(reason);
    if (running?.run) label(running.run);
    await act();
    return { running, dropped };
  }

  private enqueue(description: string, prepare: () => CodeCell): CellTicket {
    this.assertUsable();
    this.lastActivity = Date.now();
    const ticket = new CellTicket(description);
    // Results nobody came back for are kept for wait_for_cell, but not without end: their
    // outputs are in the notebook anyway.
    const stale = this.undelivered();
    for (const old of stale.slice(0, Math.max(0, stale.length - MAX_UNDELIVERED + 1))) this.forget(old);
    this.tickets.push(ticket);
    void this.lock
      .run(async () => {
        if (ticket.withdrawn) return;
        try {
          this.assertUsable();
          const cell = prepare();
          const run = new CellRun(cell, this.kernel, this.notebook, this.outputLimit);
          ticket.markStarted(run);
          const result = await run.done;
          ticket.finish({ ...result, cellIndex: run.cellIndex, cellId: cell.id });
        } catch (error) {
          ticket.fail(error);
          const index = this.tickets.indexOf(ticket);
          if (index >= 0) this.tickets.splice(index, 1);
        } finally {
          this.lastActivity = Date.now();
        }
      })
      .catch((error: unknown) => log.error(`session ${this.id}: ${String(error)}`));
    return ticket;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.lastActivity = Date.now();
    return this.lock.run(async () => {
      this.assertUsable();
      try {
        return await task();
      } finally {
        this.lastActivity = Date.now();
      }
    });
  }

  private assertUsable(): void {
    if (this.lostReason) {
      throw new JlabError('SERVER_LOST', `Session ${this.id} cannot run code: ${this.lostReason}`, {
        hint: `Its notebook is intact. Start again with start_session_resume_notebook(notebook_path="${this.notebookPath}") to re-run it on a new kernel.`,
        context: { sessionId: this.id, kernelId: this.kernel.id },
      });
    }
  }
}

function firstLine(code: string): string {
  const line = code.split('\n', 1)[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
