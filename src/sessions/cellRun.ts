import type { KernelMessage } from '@jupyterlab/services';
import { executeOnKernel, type ExecutionEnd } from '../jupyter/execute.js';
import { followExecution } from '../jupyter/follow.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import type { NotebookDocument } from '../notebook/document.js';
import { OutputCollector } from '../notebook/outputCollector.js';
import type { CodeCell, Output } from '../notebook/types.js';
import type { CellRunResult, CellStatus } from './cellOutcome.js';
import { clearRunningMark, setRunningMark } from './runningMark.js';
import { ProvenanceTracker } from './provenanceTracker.js';

export interface CellRunOptions {
  /** Characters one stream output keeps in the notebook. */
  outputLimit: number;
  /** A running cell's outputs so far are saved at least this often, in ms. */
  saveIntervalMs: number;
  /**
   * false: the final save is only scheduled (within saveIntervalMs) — a replay of many cells
   * writes the file once per interval; the replay flushes at its end.
   */
  saveWhenDone: boolean;
  /** The kernel aborts requests queued behind this one if it fails (a replay with stop_on_error). */
  stopOnError?: boolean;
  /** Where the run's provenance is gathered; default: a tracker of its own (no session context). */
  provenance?: ProvenanceTracker;
  /** A scratch run: store_history=false, so the kernel's execution count and history stay as they are. */
  scratch?: boolean;
}

/** What a run needs of the notebook it writes to (a scratch run gets one that keeps nothing: scratchRun.ts). */
export type RunNotebook = Pick<NotebookDocument, 'changed' | 'scheduleSave' | 'save' | 'indexOf'>;

/**
 * A cell that ends within this many ms is written once, when it ends (the hot path: one save
 * per quick cell). A longer one is written with a "running" mark after this delay, then its
 * outputs so far every saveIntervalMs, so a crash of jlab-mcp loses at most that interval.
 */
const RUNNING_MARK_DELAY_MS = 1000;

/** Why the run ended the way it did, when jlab-mcp (not the kernel) caused it. */
export type StopCause = 'interrupt' | 'restart' | 'escalated_restart' | 'cell_timeout' | 'shutdown';

/**
 * One execution of one notebook cell: outputs flow into the cell as they arrive, and when the
 * kernel is done (or dies) the cell gets its execution_count and the notebook is saved.
 * `done` never rejects; a kernel that died is recorded in the cell as an error output.
 */
export class CellRun {
  readonly collector: OutputCollector;
  readonly startedAt: number = Date.now();
  readonly done: Promise<CellRunResult>;
  finished = false;
  /** Set by interrupt/restart/shutdown so the recorded ending names what happened. */
  stopCause?: StopCause;
  /** The execute request's message id (a followed run: the earlier jlab-mcp's). */
  readonly msgId: string;
  /** What the cell held before this run: a run the kernel aborted unrun gives it back. */
  private readonly previous: { outputs: Output[]; executionCount: number | null };
  private readonly provenance: ProvenanceTracker;

  /**
   * Runs `cell` on the kernel — or, with `follow`, takes over an execution an earlier jlab-mcp
   * started (reattach): its spooled and live messages, from `follow.startedAt` on.
   */
  constructor(
    readonly cell: CodeCell,
    private readonly kernel: KernelPort,
    private readonly notebook: RunNotebook,
    private readonly options: CellRunOptions,
    follow?: { msgId: string; startedAt: number },
  ) {
    this.collector = new OutputCollector(options.outputLimit);
    this.provenance = options.provenance ?? new ProvenanceTracker();
    this.previous = { outputs: cell.outputs, executionCount: cell.execution_count };
    if (follow) this.startedAt = follow.startedAt;
    const onIOPub = (message: KernelMessage.IIOPubMessage) => {
      this.collector.handle(message);
      cell.outputs = this.collector.outputs;
      notebook.changed(cell);
      notebook.scheduleSave(options.saveIntervalMs);
    };
    if (!follow) {
      cell.outputs = [];
      cell.execution_count = null;
    }
    setRunningMark(cell, this.startedAt);
    notebook.changed(cell);
    notebook.scheduleSave(RUNNING_MARK_DELAY_MS);
    let end: Promise<ExecutionEnd>;
    if (follow) {
      this.msgId = follow.msgId;
      end = followExecution(kernel, follow.msgId, onIOPub, (recovered) => this.resumeOutputs(recovered));
    } else {
      const execution = executeOnKernel(kernel, cell.source, onIOPub, options.stopOnError, !options.scratch);
      this.msgId = execution.msgId;
      end = execution.end;
    }
    this.provenance.trackExecution(kernel, this.msgId, cell); // provenance (issue 12): the kernel's own timing of this run
    this.done = end.then((ending) => this.finish(ending));
  }

  /**
   * A followed cell: the spool has everything it printed, so its outputs are rebuilt from there;
   * without one, what the earlier jlab-mcp saved is kept and the gap is said.
   */
  private resumeOutputs(recovered: boolean): void {
    if (recovered) {
      this.cell.outputs = [];
      return;
    }
    for (const output of this.previous.outputs) this.collector.push(output);
    this.collector.push({
      output_type: 'stream',
      name: 'stderr',
      text: '[jlab-mcp: output printed while no jlab-mcp was attached is missing here (this kernel keeps no spool); later output follows]\n',
    });
    this.cell.outputs = this.collector.outputs;
  }

  /** A scratch run: its cell is in no notebook (cellIndex is -1) and nothing of it is recorded. */
  get scratch(): boolean {
    return this.options.scratch === true;
  }

  /** The cell's position now (cells may have been inserted above it meanwhile). */
  get cellIndex(): number {
    return this.notebook.indexOf(this.cell);
  }

  private async finish(ending: ExecutionEnd): Promise<CellRunResult> {
    const status = statusOf(ending);
    const note = endingNote(ending, status, this.kernel.gone ? 'kernel_gone' : this.stopCause);
    if (note) this.collector.push({ output_type: 'error', ename: note.ename, evalue: note.evalue, traceback: [] });
    const neverRan = ending.kind === 'aborted' && this.collector.outputs.length === 0;
    this.cell.outputs = neverRan ? this.previous.outputs : this.collector.outputs;
    this.cell.execution_count = neverRan ? this.previous.executionCount : 'executionCount' in ending ? ending.executionCount : null;
    clearRunningMark(this.cell);
    // provenance (issue 12): JupyterLab's execution timing and the cell's run history
    this.provenance.recordRun(this.cell, { status, executionCount: this.cell.execution_count, startedAt: this.startedAt, neverRan, stopCause: this.stopCause });
    this.notebook.changed(this.cell);
    this.finished = true;
    const result: CellRunResult = { status, executionCount: this.cell.execution_count, outputs: this.cell.outputs, durationMs: Date.now() - this.startedAt };
    if (!this.options.saveWhenDone) {
      this.notebook.scheduleSave(this.options.saveIntervalMs);
      return result;
    }
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
  if (ending.kind === 'no_reply') return 'error';
  return ending.kind;
}

/** The error output jlab-mcp adds to the cell to say how it ended, when the kernel did not say. */
function endingNote(ending: ExecutionEnd, status: CellStatus, cause: StopCause | 'kernel_gone' | undefined): { ename: string; evalue: string } | undefined {
  if (ending.kind === 'no_reply') {
    return {
      ename: 'NoReply',
      evalue:
        'The kernel went idle without answering this request: it could not handle the code at all (the Jupyter server log may say why). The kernel is usable.',
    };
  }
  if (cause === 'kernel_gone') {
    return {
      ename: 'KernelGone',
      evalue: 'The kernel was shut down from outside jlab-mcp while this cell ran (it no longer exists on the Jupyter server); all variables are lost.',
    };
  }
  if (cause === 'shutdown' && (status === 'kernel_died' || status === 'server_lost')) {
    return { ename: 'SessionShutDown', evalue: 'The session was shut down (or jlab-mcp exited) while this cell ran; the output up to then is kept.' };
  }
  if (status === 'kernel_died' && cause === 'escalated_restart') {
    return { ename: 'KernelRestarted', evalue: 'The cell ignored the interrupt, so the kernel was restarted to stop it; all variables are lost.' };
  }
  if (status === 'kernel_died' && cause === 'cell_timeout') {
    return {
      ename: 'CellTimeout',
      evalue: 'The cell ran past its cell_timeout and ignored the interrupt, so the kernel was restarted; all variables are lost.',
    };
  }
  if (status === 'kernel_died' && cause === 'restart') {
    return { ename: 'KernelRestarted', evalue: 'The kernel was restarted (restart_kernel) while this cell ran; all variables are lost.' };
  }
  if (status === 'kernel_died') {
    return { ename: 'KernelDied', evalue: 'The kernel died while running this cell (it was restarted by the server; all variables are lost).' };
  }
  if (status === 'server_lost') {
    return { ename: 'ServerLost', evalue: 'The connection to the Jupyter server was lost while running this cell.' };
  }
  if (cause === 'cell_timeout') {
    return { ename: 'CellTimeout', evalue: 'The cell ran past its cell_timeout during the resume and was interrupted.' };
  }
  return undefined;
}
