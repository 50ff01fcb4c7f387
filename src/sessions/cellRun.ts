import { executeOnKernel, type ExecutionEnd } from '../jupyter/execute.js';
import type { KernelHandle } from '../jupyter/kernel.js';
import type { NotebookDocument } from '../notebook/document.js';
import { OutputCollector } from '../notebook/outputCollector.js';
import type { CodeCell, Output } from '../notebook/types.js';

export type CellStatus = 'ok' | 'error' | 'aborted' | 'kernel_died' | 'server_lost';

export interface CellRunResult {
  status: CellStatus;
  executionCount: number | null;
  outputs: Output[];
  durationMs: number;
  /** Set when the notebook could not be written; the outputs are still returned. */
  saveError?: string;
}

/**
 * One execution of one notebook cell: outputs flow into the cell as they arrive, and when the
 * kernel is done (or dies) the cell gets its execution_count and the notebook is saved.
 * `done` never rejects; a kernel that died is recorded in the cell as an error output.
 */
export class CellRun {
  readonly collector: OutputCollector;
  readonly startedAt = Date.now();
  readonly done: Promise<CellRunResult>;
  finished = false;
  /** Set by interrupt_kernel / restart_kernel so the recorded ending names what happened. */
  interruptRequested = false;
  restartRequested = false;

  constructor(
    readonly cell: CodeCell,
    kernel: KernelHandle,
    private readonly notebook: NotebookDocument,
    outputLimit = 2_000_000,
  ) {
    this.collector = new OutputCollector(outputLimit);
    cell.outputs = [];
    cell.execution_count = null;
    notebook.changed(cell);
    const { end } = executeOnKernel(kernel, cell.source, (message) => {
      this.collector.handle(message);
      cell.outputs = this.collector.outputs;
      notebook.changed(cell);
    });
    this.done = end.then((ending) => this.finish(ending));
  }

  /** The cell's position now (cells may have been inserted above it meanwhile). */
  get cellIndex(): number {
    return this.notebook.indexOf(this.cell);
  }

  private async finish(ending: ExecutionEnd): Promise<CellRunResult> {
    const status = statusOf(ending);
    if (status === 'kernel_died' && this.restartRequested) {
      this.collector.push({
        output_type: 'error',
        ename: 'KernelRestarted',
        evalue: 'The kernel was restarted (restart_kernel) while this cell ran; all variables are lost.',
        traceback: [],
      });
    } else if (status === 'kernel_died') {
      this.collector.push({
        output_type: 'error',
        ename: 'KernelDied',
        evalue: 'The kernel died while running this cell (it was restarted by the server; all variables are lost).',
        traceback: [],
      });
    } else if (status === 'server_lost') {
      this.collector.push({
        output_type: 'error',
        ename: 'ServerLost',
        evalue: 'The connection to the Jupyter server was lost while running this cell.',
        traceback: [],
      });
    }
    this.cell.outputs = this.collector.outputs;
    this.cell.execution_count = 'executionCount' in ending ? ending.executionCount : null;
    this.notebook.changed(this.cell);
    this.finished = true;
    const result: CellRunResult = { status, executionCount: this.cell.execution_count, outputs: this.cell.outputs, durationMs: Date.now() - this.startedAt };
    try {
      await this.notebook.save();
    } catch (error) {
      result.saveError = (error as Error).message;
    }
    return result;
  }
}

function statusOf(ending: ExecutionEnd): CellStatus {
  if (ending.kind === 'lost') return ending.loss === 'died' ? 'kernel_died' : 'server_lost';
  return ending.kind;
}
