import type { KernelHandle } from '../jupyter/kernel.js';
import type { NotebookDocument } from '../notebook/document.js';
import type { Cell } from '../notebook/types.js';
import { JlabError } from '../util/errors.js';
import { Mutex } from '../util/mutex.js';
import { CellRun, type CellRunResult } from './cellRun.js';

export interface CellOutcome extends CellRunResult {
  cellIndex: number;
  cellId: string;
}

/**
 * A kernel and the notebook it writes. Calls on one session run one at a time (a FIFO lock);
 * different sessions run in parallel. A session whose server was lost refuses work with a
 * message that says how to go on.
 */
export class Session {
  private readonly lock = new Mutex();
  private lostReason?: string;
  readonly createdAt = Date.now();
  lastActivity = Date.now();
  current?: CellRun;

  constructor(
    readonly id: string,
    readonly experimentName: string,
    readonly kernel: KernelHandle,
    readonly notebook: NotebookDocument,
    readonly serverGeneration: number,
  ) {}

  get notebookPath(): string {
    return this.notebook.path;
  }

  get lost(): string | undefined {
    return this.lostReason;
  }

  markLost(reason: string): void {
    this.lostReason ??= reason;
  }

  /** Appends (or inserts at `cellIndex`) a code cell and runs it. */
  executeCode(code: string, cellIndex?: number): Promise<CellOutcome> {
    return this.exclusive(async () => {
      const position = this.notebook.resolveInsertIndex(cellIndex);
      const cell = this.notebook.newCodeCell(code);
      this.notebook.insert(cell, position);
      return this.run(cell);
    });
  }

  /** Replaces a code cell's source (index checked first), re-runs it and replaces its outputs. */
  editCell(cellIndex: number, code: string): Promise<CellOutcome> {
    return this.exclusive(async () => {
      const cell = this.notebook.codeCellAt(cellIndex);
      cell.source = code;
      return this.run(cell);
    });
  }

  /** Runs an existing code cell as it is. */
  runCell(cellIndex: number): Promise<CellOutcome> {
    return this.exclusive(async () => this.run(this.notebook.codeCellAt(cellIndex)));
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
      await this.notebook.save();
      return this.notebook.indexOf(cell);
    });
  }

  deleteCell(cellIndex: number): Promise<Cell> {
    return this.exclusive(async () => {
      const removed = this.notebook.remove(this.notebook.resolveIndex(cellIndex));
      await this.notebook.save();
      return removed;
    });
  }

  /** Runs every code cell in order (resume); returns each cell's outcome. Stops if the kernel dies. */
  replayAll(): Promise<CellOutcome[]> {
    return this.exclusive(async () => {
      const outcomes: CellOutcome[] = [];
      for (const cell of [...this.notebook.cells]) {
        if (cell.cell_type !== 'code' || cell.source.trim() === '') continue;
        const outcome = await this.run(cell);
        outcomes.push(outcome);
        if (outcome.status === 'kernel_died' || outcome.status === 'server_lost') break;
      }
      return outcomes;
    });
  }

  private async run(cell: Extract<Cell, { cell_type: 'code' }>): Promise<CellOutcome> {
    this.assertUsable();
    const run = new CellRun(cell, this.kernel, this.notebook);
    this.current = run;
    try {
      const result = await run.done;
      return { ...result, cellIndex: run.cellIndex, cellId: cell.id };
    } finally {
      if (this.current === run) this.current = undefined;
    }
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
