/** The backend's state in words and facts, for the log, errors and the status resource. No tokens. */
import type { BatchSettings } from './batchScript.js';
import type { Job, Phase } from './job.js';
import { logFileOf } from './jobFiles.js';
import type { SqueueRow } from './parsers.js';
import type { WalltimeStatus } from './walltime.js';

/** One line for people: where the start is, e.g. "job 12 pending (Resources) for 40 s". */
export function summaryOf(phase: Phase, job: Job | undefined): string {
  const row = job?.row;
  const since = job?.submittedAt ? ` for ${Math.round((Date.now() - job.submittedAt) / 1000)} s` : '';
  switch (phase) {
    case 'idle':
      return 'no SLURM job yet';
    case 'submitting':
      return 'submitting the SLURM job';
    case 'pending':
      return `SLURM job ${job?.id} ${row?.state?.toLowerCase() ?? 'queued'}${row?.reason && row.reason !== 'None' ? ` (${row.reason})` : ''}${since}${job?.kept ? '; kept after the queue timeout' : ''}`;
    case 'running':
      return `SLURM job ${job?.id} running on ${row?.nodes || '?'}; waiting for Jupyter`;
    case 'ready':
      return `SLURM job ${job?.id} running on ${row?.nodes || '?'}, Jupyter ready, time left ${row?.timeLeft || '?'}`;
    case 'failed':
      return `the last SLURM start failed${job?.id ? ` (job ${job.id}${row?.reason && row.reason !== 'None' ? `: ${row.reason}` : ''})` : ''}`;
    case 'lost':
      return `SLURM job ${job?.id} ended; the next call submits a new one`;
    case 'stopped':
      return 'stopped';
  }
}

export interface DescribeInput {
  phase: Phase;
  job: Job | undefined;
  stateDir: string;
  batch: BatchSettings;
  heartbeatTimeoutS: number;
  lastError: string | undefined;
}

/** Phases in which the job's last squeue row still describes it (time left included). */
const LIVE_PHASES = new Set<Phase>(['pending', 'running', 'ready']);

/**
 * The job's state as the status shows it. After a failed start the last squeue row is stale (a
 * cancelled job still reads PENDING with its whole time limit left): say the start failed, and why.
 */
function stateOf(phase: Phase, row: SqueueRow | undefined): string | undefined {
  if (phase !== 'failed') return row?.state;
  const why = row?.reason && row.reason !== 'None' ? row.reason : row && row.state !== 'PENDING' && row.state !== 'RUNNING' ? row.state : undefined;
  return why ? `failed: ${why}` : 'failed';
}

/** The SLURM backend's facts for the status resource. */
export type SlurmDescription = {
  kind: 'slurm';
  summary: string;
  phase: Phase;
  jobId?: string;
  jobName?: string;
  state?: string;
  reason?: string;
  node?: string;
  timeLeft?: string;
  timeLimit?: string;
  checkedAt?: string;
  url?: string;
  logs?: { stdout: string; stderr: string };
  stateDir: string;
  partition: string;
  gres?: string;
  heartbeatTimeoutS: number;
  lastError?: string;
  walltime?: WalltimeStatus;
};

/** Facts for the status resource (the backend adds the walltime). */
export function describeJob(input: DescribeInput): SlurmDescription {
  const { job, phase } = input;
  const row = job?.row;
  return {
    kind: 'slurm',
    summary: summaryOf(phase, job),
    phase,
    jobId: job?.id,
    jobName: job?.name,
    state: stateOf(phase, row),
    reason: row?.reason || undefined,
    node: row?.nodes || undefined,
    timeLeft: (LIVE_PHASES.has(phase) && row?.timeLeft) || undefined,
    timeLimit: row?.timeLimit || undefined,
    checkedAt: job?.checkedAt ? new Date(job.checkedAt).toISOString() : undefined,
    url: job?.url,
    logs: job ? { stdout: logFileOf(job), stderr: logFileOf(job) } : undefined,
    stateDir: job?.dir ?? input.stateDir,
    partition: input.batch.partition ?? '(cluster default)',
    gres: input.batch.gres || undefined,
    heartbeatTimeoutS: input.heartbeatTimeoutS,
    lastError: input.lastError,
  };
}
