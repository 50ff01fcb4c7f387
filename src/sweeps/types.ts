export type RunState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timeout';
/** One run of a sweep: its parameter values and the notebook it writes (absolute path, already written with its injected-parameters cell before submit). */
export interface PlannedRun {
  index: number;
  parameters: Record<string, unknown>;
  notebookPath: string;
}
/** What an executor knows of one run. `error`: the first line of the error (exception line, "cell 3 exceeded 600 s", "node failure", "walltime reached in cell 5"). `cellReached`: 0-based index of the last cell that started. */
export interface RunReport {
  index: number;
  state: RunState;
  startedAt?: string;
  endedAt?: string;
  node?: string;
  arrayTaskId?: number;
  error?: string;
  cellReached?: number;
}
export interface SweepLaunch {
  sweepId: string;
  experimentDir: string; // <notebook dir>/<experiment_name>, exists, holds run-0000.ipynb …
  runs: PlannedRun[]; // the runs of THIS attempt (all, or the failed ones on rerun)
  maxConcurrent: number;
  cellTimeoutS?: number; // per cell; past it the run ends `timeout`
  profile?: string; // SLURM profile name (src/backends/slurm/profiles.ts); undefined = default
  attempt: number; // 1, 2, … (rerun_sweep makes a new attempt; same notebook paths)
  kernelName?: string;
}
/** Persisted per attempt in the registry so that a restarted jlab-mcp can poll and cancel. */
export interface SubmittedAttempt {
  attempt: number;
  jobId?: string;
  runIndices: number[];
  submittedAt: string;
  command?: string;
}
export interface SweepExecutor {
  readonly kind: 'local' | 'external' | 'slurm';
  /** dry_run: the exact command line that submit would run (SLURM: the sbatch line), and the scheduler's start estimate (sbatch --test-only) */
  plan(launch: SweepLaunch): Promise<{ command?: string; startEstimate?: string }>;
  /** Starts the runs and returns quickly (SLURM: after sbatch answered; local: after queueing). Rejects with a JlabError and submits nothing on bad input (e.g. array larger than MaxArraySize: the error names the largest allowed). */
  submit(launch: SweepLaunch): Promise<SubmittedAttempt>;
  /** Current state of the runs of one attempt. Must work after a restart of jlab-mcp from `attempt` alone (SLURM: sacct + the run's status file). */
  poll(launch: SweepLaunch, attempt: SubmittedAttempt): Promise<RunReport[]>;
  /** Cancels runs (all of the attempt when `indices` is undefined); pending ones never start, running ones stop. */
  cancel(launch: SweepLaunch, attempt: SubmittedAttempt, indices?: number[]): Promise<void>;
}
