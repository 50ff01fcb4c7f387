import type { KernelMessage } from '@jupyterlab/services';
import type { KernelPort } from '../jupyter/kernelPort.js';
import { recordExecution, type ExecutionTiming } from '../notebook/provenance.js';
import type { CodeCell } from '../notebook/types.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';

/** What each run of a kernel is recorded with: its session, host, SLURM job and environment. */
export interface RunContext {
  sessionId: string;
  host?: string;
  slurmJobId?: string;
  environmentId?: string;
}

interface Tracking {
  kernel: KernelPort;
  timing: ExecutionTiming;
  stop: () => void;
}

/** How a run ended, for its record. */
export interface RunEnding {
  status: string;
  executionCount: number | null;
  /** When jlab-mcp sent (or began following) the request, ms since the epoch. */
  startedAt: number;
  /** The kernel aborted it before it ran: the cell keeps its previous timing. */
  neverRan: boolean;
  /** What jlab-mcp did to end it (interrupt, restart, cell_timeout…). */
  stopCause?: string;
}

/**
 * The provenance of runs (issue 12), for one session manager: what each kernel's runs are
 * recorded with (session, host, job, environment) and the kernel's own timing of each run in
 * flight, until the run's record is written into its cell.
 */
export class ProvenanceTracker {
  private readonly contexts = new WeakMap<KernelPort, RunContext>();
  private readonly tracked = new WeakMap<CodeCell, Tracking>();

  /** Sets (or amends) what runs on `kernel` are recorded with. */
  setRunContext(kernel: KernelPort, context: Partial<RunContext>): void {
    const known = this.contexts.get(kernel);
    const merged = { ...known, ...Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined && v !== null)) } as RunContext;
    this.contexts.set(kernel, merged);
  }

  runContextOf(kernel: KernelPort): RunContext | undefined {
    return this.contexts.get(kernel);
  }

  /**
   * Starts noting the kernel's own timestamps of the execute request `msgId` for `cell` — busy,
   * execute_input, the reply (and its `started` metadata), idle — as JupyterLab's recordTiming
   * does. Never throws: provenance must not break a run.
   */
  trackExecution(kernel: KernelPort, msgId: string, cell: CodeCell): void {
    try {
      this.tracked.get(cell)?.stop();
      const timing: ExecutionTiming = {};
      const onMessage = (msg: KernelMessage.IMessage) => {
        if ((msg.parent_header as { msg_id?: string } | undefined)?.msg_id !== msgId) return;
        // JupyterLab estimates a missing date as now; so do we.
        const date = typeof msg.header.date === 'string' && msg.header.date ? msg.header.date : new Date().toISOString();
        const type = msg.header.msg_type;
        if (type === 'status') {
          const state = (msg.content as { execution_state?: string }).execution_state;
          if (state === 'busy' || state === 'idle') timing[`iopub.status.${state}`] = date;
        } else if (type === 'execute_input') {
          timing['iopub.execute_input'] = date;
        } else if (type === 'execute_reply') {
          const started = (msg.metadata as { started?: unknown } | undefined)?.started;
          if (typeof started === 'string') timing['shell.execute_reply.started'] = started;
          timing['shell.execute_reply'] = date;
        }
      };
      this.tracked.set(cell, { kernel, timing, stop: kernel.onMessage(onMessage) });
    } catch (error) {
      log.debug(`provenance: cannot follow the timing of ${msgId}: ${messageOf(error)}`);
    }
  }

  /** Records the run in the cell's metadata (timing and history). Never throws. */
  recordRun(cell: CodeCell, ending: RunEnding): void {
    const tracking = this.tracked.get(cell);
    this.tracked.delete(cell);
    try {
      tracking?.stop();
      const timing = ending.neverRan ? {} : (tracking?.timing ?? {});
      const started = timing['iopub.status.busy'] ?? timing['shell.execute_reply.started'] ?? new Date(ending.startedAt).toISOString();
      const ended = timing['iopub.status.idle'] ?? timing['shell.execute_reply'] ?? new Date().toISOString();
      const duration = Math.max(0, Date.parse(ended) - Date.parse(started)) / 1000;
      const context = tracking ? this.contexts.get(tracking.kernel) : undefined;
      recordExecution(cell, timing, {
        started,
        ended,
        duration_s: Number.isFinite(duration) ? Math.round(duration * 1000) / 1000 : 0,
        status: ending.stopCause ? `${ending.status} (${ending.stopCause})` : ending.status,
        execution_count: ending.executionCount,
        session_id: context?.sessionId,
        host: context?.host,
        slurm_job_id: context?.slurmJobId,
        environment: context?.environmentId,
      });
    } catch (error) {
      log.warn(`provenance: cell ${cell.id} not recorded: ${messageOf(error)}`);
    }
  }
}
