/**
 * Where and with what each cell ran, kept in the notebook (pure functions on its metadata).
 *
 * - Each code cell's `metadata.execution` holds JupyterLab's own timing keys for its latest run
 *   (`iopub.status.busy`, `iopub.execute_input`, `shell.execute_reply.started`,
 *   `shell.execute_reply`, `iopub.status.idle`: the kernel's header dates, ISO 8601), exactly as
 *   JupyterLab writes them with `recordTiming` on, so JupyterLab (and jupyterlab-execute-time)
 *   show them. nbformat allows only strings there.
 * - `metadata.jlab_mcp_runs` keeps the cell's history, oldest first: one entry per session that
 *   ran it (when, how long, status, execution count, host, SLURM job, session, environment id,
 *   and how many runs); a re-run in the same session updates its entry, so a cell run in a loop
 *   does not grow the file, while resumes and continues (new sessions) append.
 * - The notebook's `metadata.jlab_mcp.environments` records each session's kernel environment
 *   once (Python and key package versions, the pip-freeze hash and the file with the full list,
 *   host, SLURM job, GPUs); appended, never replaced.
 */
import type { CodeCell, NotebookContent } from './types.js';

/** Cell metadata key of the run history. */
export const RUNS_KEY = 'jlab_mcp_runs';
/** Notebook metadata key under which the environments are recorded. */
export const NOTEBOOK_KEY = 'jlab_mcp';
/** History entries (sessions) kept per cell, the oldest dropped first. */
export const MAX_RUNS_PER_CELL = 100;
/** Environments kept per notebook (one per session or kernel move). */
export const MAX_ENVIRONMENTS = 200;

/** JupyterLab's `execution` timing keys (all optional: a kernel may not send a date). */
export type ExecutionTiming = Partial<
  Record<'iopub.status.busy' | 'iopub.execute_input' | 'shell.execute_reply.started' | 'shell.execute_reply' | 'iopub.status.idle', string>
>;

/** One run of one cell. */
export interface RunRecord {
  /** ISO 8601: when the kernel started it (its busy status), else when jlab-mcp sent it. */
  started: string;
  ended: string;
  duration_s: number;
  status: string;
  execution_count: number | null;
  session_id?: string;
  host?: string;
  slurm_job_id?: string;
  /** Id of the entry in the notebook's environments. */
  environment?: string;
  /** Runs of this cell in this session (the entry describes the latest). */
  runs?: number;
}

/** One session's kernel environment. */
export interface EnvironmentRecord {
  id: string;
  session_id: string;
  recorded_at: string;
  kernel: { name: string; display_name?: string; language?: string };
  language_version?: string;
  hostname?: string;
  slurm_job_id?: string | null;
  python?: string;
  executable?: string;
  platform?: string;
  packages?: Record<string, string>;
  /** sha256 of the sorted `name==version` lines, their count, and the file that holds them (relative to the notebook). */
  pip_freeze?: { sha256: string; count: number; file?: string };
  conda?: { env?: string | null; sha256?: string; count?: number };
  gpus?: string[];
  cuda_visible_devices?: string | null;
  /** What could not be gathered, in words. */
  notes?: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Records one run in the cell: JupyterLab's timing keys for this run replace the last run's (as
 * JupyterLab does). In the cell's history a run of the same session as the last entry updates
 * that entry (and counts it); a run of another session is appended (the oldest dropped past
 * MAX_RUNS_PER_CELL). A run the kernel never started (aborted) keeps the previous timing.
 */
export function recordExecution(cell: CodeCell, timing: ExecutionTiming, run: RunRecord): void {
  const strings = Object.fromEntries(Object.entries(timing).filter(([, value]) => typeof value === 'string' && value !== ''));
  if (Object.keys(strings).length > 0) cell.metadata.execution = strings;
  const previous = cell.metadata[RUNS_KEY];
  const runs = Array.isArray(previous) ? [...previous] : [];
  const entry = Object.fromEntries(Object.entries(run).filter(([, value]) => value !== undefined)) as RunRecord;
  const last = runs.at(-1) as RunRecord | undefined;
  if (last && isRecord(last) && run.session_id !== undefined && last.session_id === run.session_id && last.environment === run.environment) {
    runs[runs.length - 1] = { ...entry, runs: (last.runs ?? 1) + 1 };
  } else {
    runs.push(entry);
  }
  cell.metadata[RUNS_KEY] = runs.slice(-MAX_RUNS_PER_CELL);
}

/** The environments recorded so far, oldest first. */
export function environmentsOf(metadata: NotebookContent['metadata']): EnvironmentRecord[] {
  const own = metadata[NOTEBOOK_KEY];
  const list = isRecord(own) ? own.environments : undefined;
  return Array.isArray(list) ? (list.filter(isRecord) as unknown as EnvironmentRecord[]) : [];
}

/** Appends an environment to the notebook's record; other keys under `jlab_mcp` are kept. */
export function recordEnvironment(metadata: NotebookContent['metadata'], env: EnvironmentRecord): void {
  const own = isRecord(metadata[NOTEBOOK_KEY]) ? (metadata[NOTEBOOK_KEY] as Record<string, unknown>) : {};
  const previous = Array.isArray(own.environments) ? own.environments : [];
  const withoutUndefined = JSON.parse(JSON.stringify(env)) as EnvironmentRecord;
  metadata[NOTEBOOK_KEY] = { ...own, environments: [...previous, withoutUndefined].slice(-MAX_ENVIRONMENTS) };
}

/** When a cell last ran, from its timing or its history (ISO 8601), if recorded. */
export function lastRunOf(metadata: Record<string, unknown>): string | undefined {
  const times: string[] = [];
  const execution = metadata.execution;
  if (isRecord(execution)) {
    for (const key of ['shell.execute_reply', 'iopub.status.idle']) {
      if (typeof execution[key] === 'string') times.push(execution[key] as string);
    }
  }
  const runs = metadata[RUNS_KEY];
  if (Array.isArray(runs) && isRecord(runs[runs.length - 1])) {
    const ended = (runs[runs.length - 1] as Record<string, unknown>).ended;
    if (typeof ended === 'string') times.push(ended);
  }
  return latest(times);
}

/** The latest of some ISO 8601 times (compared as instants), or undefined. */
export function latest(times: Iterable<string>): string | undefined {
  let best: { text: string; at: number } | undefined;
  for (const text of times) {
    const at = Date.parse(text);
    if (Number.isFinite(at) && (!best || at > best.at)) best = { text, at };
  }
  return best?.text;
}
