/**
 * One run's report from what is known of its array task: the runner's status file (its own
 * word, written at start, after each cell and at the end) and the scheduler's row (sacct or
 * squeue). The runner's final word wins, except that Slurm alone knows a SIGTERM was the
 * walltime; the scheduler's terminal state covers a task that was killed hard or never started.
 * Pure.
 */
import type { RunReport, RunState } from '../types.js';
import { slurmTimeToIso, type TaskRow } from './parsers.js';
import type { RunStatus } from './statusFile.js';

export interface TaskFacts {
  index: number;
  taskId: number;
  /** The scheduler's row for this task, when it lists one. */
  row?: TaskRow;
  /** Whether the scheduler answered at all (false: controller down, command failed). */
  schedulerAnswered: boolean;
  /** The run's status file, already known to be this attempt's. */
  status?: RunStatus;
  /** The last line of the task's output file (the batch script's own complaint, e.g. nbclient missing). */
  outputTail?: string;
  /** jlab-mcp asked Slurm to cancel this task: without accounting, a cancelled pending task vanishes from squeue. */
  cancelRequested?: boolean;
  /** Milliseconds since the attempt was submitted: accounting may not list a job in its first moments. */
  sinceSubmitMs: number;
}

/** How long after sbatch a task no scheduler lists is still taken as pending (accounting lags), in ms. */
export const UNLISTED_GRACE_MS = 120_000;

/** States in which a task runs (or is about to, or is ending). */
const LIVE_RUNNING = new Set(['RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED']);
const LIVE_PENDING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD']);

/** Whether a scheduler state is one of a task that has not ended. */
export function isLiveTaskState(state: string): boolean {
  return LIVE_RUNNING.has(state) || LIVE_PENDING.has(state);
}

export function runReportOf(f: TaskFacts): RunReport {
  const { status, row } = f;
  const cellReached = status?.cellReached;
  const inCell = cellReached === undefined ? ' before the first cell' : ` in cell ${cellReached}`;
  const base: RunReport = {
    index: f.index,
    state: 'pending',
    arrayTaskId: f.taskId,
    startedAt: status?.startedAt ?? slurmTimeToIso(row?.start),
    node: status?.node ?? row?.node,
    cellReached,
  };
  const ended = (state: RunState, error: string | undefined): RunReport =>
    strip({ ...base, state, error, endedAt: status?.endedAt ?? slurmTimeToIso(row?.end) });

  if (status && status.state !== 'running') {
    // The runner saw SIGTERM; only Slurm knows whether it was scancel or the walltime.
    if (status.state === 'cancelled' && row?.state === 'TIMEOUT') return ended('timeout', `walltime reached${inCell}`);
    // Slurm's walltime warning can come early with a short limit: a cancel after it is still a cancel.
    if (status.state === 'timeout' && row?.state === 'CANCELLED' && status.error?.startsWith('walltime')) return ended('cancelled', `cancelled${inCell}`);
    return ended(status.state, status.error);
  }
  if (row && !isLiveTaskState(row.state)) {
    const exit = row.exitCode ? `, exit ${row.exitCode}` : '';
    switch (row.state) {
      case 'TIMEOUT':
      case 'DEADLINE':
        return ended('timeout', `${row.state === 'TIMEOUT' ? 'walltime' : 'deadline'} reached${inCell}`);
      case 'CANCELLED':
        return ended('cancelled', status ? `cancelled${inCell}` : undefined);
      case 'NODE_FAIL':
        return ended('failed', `node failure${status ? inCell : ' (the run never started)'}`);
      case 'BOOT_FAIL':
        return ended('failed', 'node boot failure (the run never started)');
      case 'OUT_OF_MEMORY':
        return ended('failed', `out of memory${inCell}`);
      case 'PREEMPTED':
        return ended('failed', `preempted${inCell}`);
      default:
        // COMPLETED or FAILED without a final status: the runner never started or was killed hard.
        return ended(
          'failed',
          status
            ? `the task ended (${row.state.toLowerCase()}${exit})${inCell} without a final status`
            : (f.outputTail ?? `the task ended (${row.state.toLowerCase()}${exit}) before the notebook started`),
        );
    }
  }
  if (row) return strip({ ...base, state: status || LIVE_RUNNING.has(row.state) ? 'running' : 'pending' });
  // No row. A cancelled task that never started leaves none (without accounting).
  if (f.cancelRequested) return ended('cancelled', status ? `cancelled${inCell}` : undefined);
  // Without an answer nothing can be concluded; with one, the task is gone (purged, no accounting).
  if (!f.schedulerAnswered || f.sinceSubmitMs < UNLISTED_GRACE_MS) return strip({ ...base, state: status ? 'running' : 'pending' });
  return ended(
    'failed',
    status
      ? `the task ended${inCell} without a final status (killed?); Slurm no longer lists it`
      : (f.outputTail ?? 'the run never started; Slurm no longer lists its task'),
  );
}

/** The report without undefined fields (structuredContent round-trips it). */
function strip(report: RunReport): RunReport {
  return Object.fromEntries(Object.entries(report).filter(([, v]) => v !== undefined)) as unknown as RunReport;
}
