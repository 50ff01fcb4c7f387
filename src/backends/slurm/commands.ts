/**
 * Thin runners for sbatch, squeue, sinfo and scancel: argv only (never a shell), a timeout each, and
 * their stderr kept for error messages. Parsing lives in parsers.ts.
 */
import { JlabError } from '../../util/errors.js';
import { exec, ExecError } from '../../util/exec.js';
import { envWithoutSecrets, redactSecrets } from '../../util/secrets.js';
import { SINFO_CAPACITY_FORMAT, parseSinfoCapacity, type NodeGroup } from './capacity.js';
import { SQUEUE_FORMAT, parseJobIds, parseSbatchOutput, parseSqueue, type SbatchResult, type SqueueRow } from './parsers.js';

export interface RunResult {
  /** Exit code; -1 when the command could not be run or was killed. */
  code: number;
  stdout: string;
  stderr: string;
  /** Why the command did not run to completion (not found, timeout, signal). */
  failure?: string;
}

/** Environment for Slurm commands: the job inherits it (--export=ALL), so no token may be in it. */
function slurmEnv(): NodeJS.ProcessEnv {
  const env = envWithoutSecrets();
  delete env.JLAB_MCP_TOKEN_FILE;
  return env;
}

export interface RunOptions {
  /** Ended (SIGTERM, then SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  cwd?: string;
  /** Aborting ends the command the same way, e.g. an sbatch in flight at shutdown. */
  signal?: AbortSignal;
}

export async function runCommand(cmd: string, args: string[], options: RunOptions): Promise<RunResult> {
  try {
    const { stdout, stderr } = await exec([cmd, ...args], { timeoutMs: options.timeoutMs, env: slurmEnv(), cwd: options.cwd, signal: options.signal });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (!(error instanceof ExecError)) throw error;
    const { stdout, stderr } = error;
    if (error.kind === 'exit-code') return { code: error.exitCode ?? -1, stdout, stderr };
    const failure =
      error.kind === 'not-found'
        ? `${cmd} was not found on PATH`
        : error.aborted
          ? `${cmd} was stopped (jlab-mcp is shutting down)`
          : error.timedOut
            ? `${cmd} did not answer within ${Math.round(options.timeoutMs / 1000)} s`
            : `${cmd} failed: ${error.why}`;
    return { code: -1, stdout, stderr, failure };
  }
}

/** The first lines of a command's stderr (or stdout), for an error message. */
export function wordsOf(result: RunResult, lines = 6): string {
  const text = (result.stderr.trim() || result.stdout.trim() || result.failure || `exit code ${result.code}`).split('\n').slice(0, lines).join('\n');
  return redactSecrets(text);
}

/**
 * `sbatch <args> <script>`; resolves to the job id, or throws SERVER_START_FAILED with sbatch's
 * words. Its context's `maybeSubmitted` is false only when sbatch could not even be run: in
 * every other failure (killed at the timeout, "Socket timed out" from a busy controller, an
 * answer without an id) Slurm may have accepted the job.
 */
export async function sbatch(args: string[], scriptFile: string, options: RunOptions): Promise<SbatchResult & { stderr: string }> {
  const result = await runCommand('sbatch', [...args, scriptFile], options);
  const notFound = result.failure?.includes('not found') === true;
  if (result.code !== 0) {
    const stderr = redactSecrets(result.stderr.trim().split('\n').slice(0, 6).join('\n'));
    const words =
      result.failure && !notFound
        ? `sbatch did not complete: ${result.failure}${stderr ? `\n${stderr}` : ''}`
        : `sbatch refused the Jupyter job: ${wordsOf(result)}`;
    throw new JlabError('SERVER_START_FAILED', words, {
      hint: notFound
        ? 'Run jlab-mcp on a machine with the Slurm client tools, or set JLAB_MCP_RUN_MODE=local.'
        : result.failure
          ? 'The Slurm controller may be busy (see squeue / sinfo); the next tool call submits again.'
          : 'Fix the SLURM settings (JLAB_MCP_SLURM_PARTITION, _GRES, _ACCOUNT, _QOS, _TIME, …) in the MCP server configuration; the next tool call submits again.',
      context: { maybeSubmitted: !notFound },
    });
  }
  try {
    return { ...parseSbatchOutput(result.stdout), stderr: result.stderr };
  } catch (error) {
    throw new JlabError('SERVER_START_FAILED', `sbatch gave no job id: ${wordsOf(result)}`, { cause: error, context: { maybeSubmitted: true } });
  }
}

export type NamedJobsAnswer = { kind: 'ids'; ids: string[] } | { kind: 'error'; words: string };

/** Ids of this user's jobs named `jobName` that have not finished (squeue's default states). */
export async function squeueByName(jobName: string, options: { timeoutMs: number }): Promise<NamedJobsAnswer> {
  const user = process.getuid?.();
  const args = ['--noheader', `--name=${jobName}`, '--format=%i', ...(user === undefined ? [] : [`--user=${user}`])];
  const result = await runCommand('squeue', args, options);
  return result.code === 0 ? { kind: 'ids', ids: parseJobIds(result.stdout) } : { kind: 'error', words: wordsOf(result) };
}

export type SqueueAnswer =
  /** Slurm knows the job: its row. */
  | { kind: 'row'; row: SqueueRow }
  /** Slurm no longer knows the id (finished and purged): exit 0 with nothing, or "Invalid job id". */
  | { kind: 'gone'; words: string }
  /** squeue itself failed (controller down, timeout): nothing can be concluded. */
  | { kind: 'error'; words: string };

/** One job's row from `squeue --states=all`. */
export async function squeueJob(jobId: string, options: { timeoutMs: number }): Promise<SqueueAnswer> {
  const result = await runCommand('squeue', ['--noheader', `--jobs=${jobId}`, '--states=all', `--format=${SQUEUE_FORMAT}`], options);
  if (result.code !== 0) {
    if (/Invalid job id/i.test(result.stderr)) return { kind: 'gone', words: result.stderr.trim() };
    return { kind: 'error', words: wordsOf(result) };
  }
  const row = parseSqueue(result.stdout).find((r) => r.jobId === jobId);
  return row ? { kind: 'row', row } : { kind: 'gone', words: 'squeue no longer lists the job' };
}

/** The node groups of `partition` (all partitions when undefined) from sinfo, or sinfo's words. */
export async function sinfoCapacity(partition: string | undefined, options: { timeoutMs: number }): Promise<NodeGroup[] | string> {
  const args = ['--noheader', '--exact', `--format=${SINFO_CAPACITY_FORMAT}`, ...(partition ? [`--partition=${partition}`] : [])];
  const result = await runCommand('sinfo', args, options);
  return result.code === 0 ? parseSinfoCapacity(result.stdout) : wordsOf(result);
}

/** `scancel <id>`; resolves to an error text when it failed, else undefined. */
export async function scancel(jobId: string, options: { timeoutMs: number }): Promise<string | undefined> {
  const result = await runCommand('scancel', [jobId], options);
  return result.code === 0 ? undefined : wordsOf(result);
}

/**
 * `scontrol update JobId=<id> TimeLimit=+<minutes>`: resolves to Slurm's refusal in its words
 * (most sites let only operators raise a limit), else undefined.
 */
export async function scontrolExtend(jobId: string, minutes: number, options: { timeoutMs: number }): Promise<string | undefined> {
  if (!/^\d+$/.test(jobId) || !(Number.isInteger(minutes) && minutes > 0)) return `not a job id and minutes: ${jobId}, ${minutes}`;
  const result = await runCommand('scontrol', ['update', `JobId=${jobId}`, `TimeLimit=+${minutes}`], options);
  return result.code === 0 ? undefined : wordsOf(result);
}
