/**
 * Pure parsers for what Slurm prints about a sweep's array job: `scontrol show config`
 * (MaxArraySize), `sbatch --test-only` (the start estimate), and one row per array task from
 * `sacct` or, where accounting is off, `squeue --array --states=all`. No I/O here; the captured
 * samples live in test/unit/fixtures/slurm-sweep/.
 */

/** One array task as the scheduler reports it. Times are Slurm's local `YYYY-MM-DDTHH:MM:SS`, absent when Slurm says N/A or Unknown. */
export interface TaskRow {
  taskId: number;
  /** The state's first word, upper case (`CANCELLED by 0` → `CANCELLED`). */
  state: string;
  start?: string;
  end?: string;
  node?: string;
  /** squeue's reason (`JobArrayTaskLimit`, `NonZeroExitCode`); sacct has none. */
  reason?: string;
  /** sacct's `exit:signal` (`3:0`, `0:15`); squeue has none. */
  exitCode?: string;
}

/** `MaxArraySize` from `scontrol show config`: the largest array index plus one; undefined when absent. */
export function parseMaxArraySize(configText: string): number | undefined {
  const m = /^\s*MaxArraySize\s*=\s*(\d+)\s*$/m.exec(configText);
  return m ? Number(m[1]) : undefined;
}

/**
 * The estimate of `sbatch --test-only` (on stderr): `sbatch: Job 183 to start at
 * 2026-12-06T22:23:26 using 1 processors on nodes vm in partition debug` → `start at
 * 2026-12-06T22:23:26 using 1 processors on nodes vm in partition debug`; undefined when no line says so.
 */
export function parseTestOnlyEstimate(stderr: string): string | undefined {
  const m = /Job \d+ to (start at .+)$/m.exec(stderr);
  return m?.[1]?.trim();
}

/**
 * The task ids of an array spec: `7`, `2-4`, `0-10:2`, `1,3,5-7`, with or without a `%K`
 * throttle. Undefined when the spec is not one (a bound keeps a malformed huge range out).
 */
export function expandArraySpec(spec: string, limit = 1_000_000): number[] | undefined {
  const body = spec.replace(/%\d+$/, '');
  const ids: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from || step < 1 || to - from > limit) return undefined;
    for (let id = from; id <= to; id += step) ids.push(id);
  }
  return ids;
}

/** The task ids a job id of the array names: `184_3` → [3], `184_[2-4%2]` → [2, 3, 4]; undefined for another job, a step (`184_3.batch`) or the bare array id. */
function taskIdsOf(jobField: string, jobId: string): number[] | undefined {
  const m = /^(\d+)_(?:(\d+)|\[([^\]]+)\])$/.exec(jobField.trim());
  if (!m || m[1] !== jobId) return undefined;
  return m[2] !== undefined ? [Number(m[2])] : expandArraySpec(m[3]!);
}

const time = (value: string | undefined): string | undefined => {
  const v = (value ?? '').trim();
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(v) ? v : undefined;
};
const text = (value: string | undefined): string | undefined => {
  const v = (value ?? '').trim();
  return v === '' || v === '(null)' || v === 'None' || v === 'None assigned' ? undefined : v;
};

/** Format of the squeue rows below (`squeue --noheader --array --states=all --jobs=<id>`). */
export const SQUEUE_TASK_FORMAT = '%i|%T|%S|%e|%N|%r';

/** One row per task of array `jobId` from squeue (SQUEUE_TASK_FORMAT); a compact pending row (`184_[2-4%2]`) gives one row per task. */
export function parseSqueueTasks(stdout: string, jobId: string): TaskRow[] {
  return taskRows(stdout, jobId, (f) => ({ reason: text(f.slice(5).join('|')) }));
}

/** Rows of `job|state|start|end|node|…` (squeue and sacct print the same first five), one per task of array `jobId`. */
function taskRows(stdout: string, jobId: string, rest: (fields: string[]) => Partial<TaskRow>): TaskRow[] {
  const rows: TaskRow[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const f = line.trim().split('|');
    if (f.length < 6) continue;
    const ids = taskIdsOf(f[0]!, jobId);
    if (!ids) continue;
    const state = (f[1] ?? '').trim().split(/\s+/)[0]!.toUpperCase();
    for (const taskId of ids) rows.push({ taskId, state, start: time(f[2]), end: time(f[3]), node: text(f[4]), ...rest(f) });
  }
  return rows;
}

/** Fields of the sacct rows below (`sacct --noheader --parsable2 --allocations --jobs=<id> --format=…`; a pending array prints compactly, `184_[2-4%2]`). */
export const SACCT_TASK_FIELDS = 'JobID,State,Start,End,NodeList,ExitCode';

/** One row per task of array `jobId` from sacct (SACCT_TASK_FIELDS); steps are skipped. */
export function parseSacctTasks(stdout: string, jobId: string): TaskRow[] {
  return taskRows(stdout, jobId, (f) => ({ exitCode: text(f[5]) }));
}

/** Slurm's `YYYY-MM-DDTHH:MM:SS` (the cluster's local time, which is this host's) as an ISO instant. */
export function slurmTimeToIso(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
