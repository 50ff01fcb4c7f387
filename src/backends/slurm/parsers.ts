/**
 * Pure parsers for the text printed by Slurm's command-line tools
 * (`sbatch`, `squeue`, `scontrol show job`). No I/O happens here.
 *
 * The formats were checked against real Slurm 22.05 output; the captured
 * samples live in test/unit/fixtures/slurm/.
 */

const MAX_QUOTE = 200;

/** Quote (possibly truncated) command output for an error message. */
function quote(text: string): string {
  const t = text.trim();
  if (t === '') return '(empty output)';
  const short = t.length > MAX_QUOTE ? `${t.slice(0, MAX_QUOTE)}…` : t;
  return JSON.stringify(short);
}

// ---------------------------------------------------------------------------
// sbatch

export interface SbatchResult {
  jobId: string;
  cluster?: string;
}

const SUBMITTED_RE = /Submitted batch job (\d+)(?: on cluster (\S+))?/;
const PARSABLE_RE = /^(\d+)(?:;(\S+))?$/;

/**
 * Job id from `sbatch` stdout. Accepts the human form
 * `Submitted batch job 123` (also `... on cluster foo`) and the `--parsable`
 * form `123` or `123;cluster`, ignoring surrounding whitespace and extra
 * lines such as warnings.
 */
export function parseSbatchOutput(stdout: string): SbatchResult {
  const human = SUBMITTED_RE.exec(stdout);
  if (human) {
    const jobId = human[1] as string;
    return human[2] ? { jobId, cluster: human[2] } : { jobId };
  }
  for (const raw of stdout.split(/\r?\n/)) {
    const m = PARSABLE_RE.exec(raw.trim());
    if (m) {
      const jobId = m[1] as string;
      return m[2] ? { jobId, cluster: m[2] } : { jobId };
    }
  }
  throw new Error(`could not find a job id in sbatch output: ${quote(stdout)}`);
}

// ---------------------------------------------------------------------------
// squeue

/** Format string the rows below are parsed from. */
export const SQUEUE_FORMAT = '%i|%T|%r|%N|%L|%M|%l';

export interface SqueueRow {
  jobId: string;
  state: string;
  reason: string;
  nodes: string;
  timeLeft: string;
  timeUsed: string;
  timeLimit: string;
}

function clean(value: string | undefined): string {
  const v = (value ?? '').trim();
  return v === '(null)' ? '' : v;
}

/**
 * Rows of `squeue --noheader --states=all --format='%i|%T|%r|%N|%L|%M|%l'`.
 * Blank lines are skipped; `(null)` becomes ''. Lines with fewer than seven
 * fields (e.g. a header printed by mistake) are ignored.
 */
export function parseSqueue(stdout: string): SqueueRow[] {
  const rows: SqueueRow[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const f = line.split('|');
    if (f.length < 7) continue;
    const jobId = clean(f[0]);
    if (jobId === '') continue;
    rows.push({
      jobId,
      state: clean(f[1]),
      reason: clean(f[2]),
      nodes: clean(f[3]),
      timeLeft: clean(f[4]),
      timeUsed: clean(f[5]),
      // Be tolerant of a '|' inside the last field.
      timeLimit: clean(f.slice(6).join('|')),
    });
  }
  return rows;
}

/**
 * Job ids from `squeue --noheader --format=%i` (one per line), in order, without duplicates.
 * Lines that are not a job id (blank, a header, a warning) are skipped.
 */
export function parseJobIds(stdout: string): string[] {
  const ids: string[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const id = raw.trim();
    if (/^\d+$/.test(id) && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * Seconds in a Slurm duration: `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
 * `D-HH:MM:SS` (also a bare number of minutes, as accepted by `--time`). `INVALID`, `UNLIMITED`, `NOT_SET`, `N/A`, '' and anything
 * unparsable give undefined.
 */
export function parseSlurmDuration(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  let days = 0;
  let rest = t;
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const d = t.slice(0, dash);
    if (!/^\d+$/.test(d)) return undefined;
    days = Number(d);
    rest = t.slice(dash + 1);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) return undefined;
  const n = parts.map(Number);
  let h = 0;
  let m = 0;
  let sec = 0;
  if (dash >= 0) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    h = n[0] ?? 0;
    m = n[1] ?? 0;
    sec = n[2] ?? 0;
  } else if (n.length === 3) {
    [h, m, sec] = n as [number, number, number];
  } else if (n.length === 2) {
    [m, sec] = n as [number, number];
  } else {
    // A bare number is minutes (sbatch --time=30).
    m = n[0] ?? 0;
  }
  return ((days * 24 + h) * 60 + m) * 60 + sec;
}

// ---------------------------------------------------------------------------
// scontrol show job

/**
 * Keys that `scontrol show job` prints on a line of their own and whose value
 * is free text (paths, comments, command lines) that may contain spaces or
 * '='. JobName is always the last key of the first line. (Not used for the
 * one-line `scontrol -o` form, where a token without '=' continues the
 * previous value instead.)
 */
const REST_OF_LINE_KEYS = new Set([
  'JobName',
  'Command',
  'WorkDir',
  'Comment',
  'AdminComment',
  'SystemComment',
  'StdErr',
  'StdIn',
  'StdOut',
  'Power',
  'Container',
  'ContainerID',
  'MailUser',
]);

const KEY_RE = /^([A-Za-z][A-Za-z0-9_:/.-]*)=/;

/** Parse all job records in `scontrol show job` output (blank-line separated). */
export function parseScontrolShowJobs(stdout: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  let lastKey: string | undefined;
  let oneLine = false;

  const set = (key: string, value: string): void => {
    if (!current) return;
    // A repeated key (e.g. the per-node detail lines of `-d`) keeps the
    // first value.
    if (!(key in current)) current[key] = value;
    lastKey = key;
  };

  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') {
      current = undefined;
      lastKey = undefined;
      continue;
    }
    if (!current) {
      // A record starts at its JobId= line; skip anything before it.
      if (!line.startsWith('JobId=')) continue;
      current = {};
      records.push(current);
      oneLine = /\sJobState=/.test(line);
    }
    let rest = line;
    while (rest !== '') {
      const m = KEY_RE.exec(rest);
      if (m) {
        const key = m[1] as string;
        const after = rest.slice(m[0].length);
        if (!oneLine && REST_OF_LINE_KEYS.has(key)) {
          set(key, after.trim());
          rest = '';
          break;
        }
        const sp = after.search(/\s/);
        const value = sp < 0 ? after : after.slice(0, sp);
        set(key, value);
        rest = sp < 0 ? '' : after.slice(sp).trimStart();
      } else {
        // A token without '=': continuation of the previous value.
        const sp = rest.search(/\s/);
        const token = sp < 0 ? rest : rest.slice(0, sp);
        if (lastKey !== undefined && current[lastKey] !== undefined) {
          current[lastKey] = current[lastKey] === '' ? token : `${current[lastKey]} ${token}`;
        }
        rest = sp < 0 ? '' : rest.slice(sp).trimStart();
      }
    }
  }
  return records;
}

/**
 * Fields of the first job record in `scontrol show job <id>` output, e.g.
 * `{ JobId: '9', JobState: 'RUNNING', NodeList: 'vm', StdOut: '/x/slurm-9.out', ... }`.
 * Values are verbatim (`(null)`, `N/A`, `Unknown` are kept). Returns {} for
 * output without a job record.
 */
export function parseScontrolShowJob(stdout: string): Record<string, string> {
  return parseScontrolShowJobs(stdout)[0] ?? {};
}

export interface ScontrolJobState {
  state: string;
  reason: string;
  nodes: string;
  stdOut?: string;
  stdErr?: string;
  exitCode?: string;
}

function meaningful(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t === '' || t === '(null)' || t === 'N/A' || t === 'None') return undefined;
  return t;
}

/** The bits of a parsed `scontrol show job` record the backend cares about. */
export function jobStateFromScontrol(fields: Record<string, string>): ScontrolJobState {
  const result: ScontrolJobState = {
    state: clean(fields['JobState']),
    reason: clean(fields['Reason']),
    nodes: clean(fields['NodeList']),
  };
  const stdOut = meaningful(fields['StdOut']);
  const stdErr = meaningful(fields['StdErr']);
  const exitCode = meaningful(fields['ExitCode']);
  if (stdOut !== undefined) result.stdOut = stdOut;
  if (stdErr !== undefined) result.stdErr = stdErr;
  if (exitCode !== undefined) result.exitCode = exitCode;
  return result;
}

// ---------------------------------------------------------------------------
// job states

export const TERMINAL_JOB_STATES: readonly string[] = Object.freeze([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
]);

/** squeue `%t` compact codes of the terminal states. */
const TERMINAL_SHORT = ['CD', 'CA', 'F', 'TO', 'NF', 'PR', 'OOM', 'BF', 'DL'];

const TERMINAL_SET = new Set([...TERMINAL_JOB_STATES, ...TERMINAL_SHORT]);

/**
 * Whether a job state means the job is over. Accepts squeue's long names
 * (`%T`) and compact codes (`%t`), sacct's `CANCELLED by 0`, and flag
 * suffixes such as `COMPLETED+` / `CANCELLED*`.
 */
export function isTerminalState(state: string): boolean {
  const base =
    state
      .trim()
      .toUpperCase()
      .split(/[\s+*]/)[0] ?? '';
  return TERMINAL_SET.has(base);
}
