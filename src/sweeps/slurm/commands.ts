/**
 * Thin runners of the Slurm commands a sweep needs, through the backend's runner (argv only, a
 * deadline each, no token in the environment). Parsing lives in parsers.ts.
 */
import { runCommand, squeueByName, wordsOf } from '../../backends/slurm/commands.js';
import { parseSbatchOutput } from '../../backends/slurm/parsers.js';
import { JlabError } from '../../util/errors.js';
import { SACCT_TASK_FIELDS, SQUEUE_TASK_FORMAT, parseMaxArraySize, parseSacctTasks, parseSqueueTasks, parseTestOnlyEstimate, type TaskRow } from './parsers.js';

export interface CommandOptions {
  timeoutMs: number;
  cwd?: string;
}

/** MaxArraySize from `scontrol show config`; undefined when scontrol fails or does not say (sbatch then judges). */
export async function maxArraySize(options: CommandOptions): Promise<number | undefined> {
  const result = await runCommand('scontrol', ['show', 'config'], options);
  return result.code === 0 ? parseMaxArraySize(result.stdout) : undefined;
}

/** The scheduler's start estimate from `sbatch --test-only`, or its words when it has none. */
export async function startEstimate(args: string[], scriptFile: string, options: CommandOptions): Promise<string> {
  const result = await runCommand('sbatch', ['--test-only', ...args.filter((a) => a !== '--parsable'), scriptFile], options);
  return parseTestOnlyEstimate(result.stderr) ?? `no estimate: ${wordsOf(result, 2)}`;
}

/**
 * `sbatch <args> <script>` → the array job id. When sbatch failed in a way that may follow
 * Slurm's acceptance (killed at its deadline, a controller that timed out answering), the job
 * is looked for by its unique name: found, it is the attempt's job; otherwise SWEEP_SUBMIT_FAILED.
 */
export async function submitArray(args: string[], scriptFile: string, jobName: string, options: CommandOptions): Promise<string> {
  const result = await runCommand('sbatch', [...args, scriptFile], options);
  if (result.code === 0) {
    try {
      return parseSbatchOutput(result.stdout).jobId;
    } catch {
      // An answer without an id: the job may exist all the same.
    }
  }
  const notFound = result.failure?.includes('not found') === true;
  const maybeAccepted = result.code === 0 || (!notFound && (result.failure !== undefined || /timed out|Socket/i.test(result.stderr)));
  if (maybeAccepted) {
    const named = await squeueByName(jobName, options);
    if (named.kind === 'ids' && named.ids.length === 1) return named.ids[0]!;
  }
  throw new JlabError('SWEEP_SUBMIT_FAILED', `sbatch refused the sweep's array job: ${wordsOf(result)}`, {
    hint: notFound
      ? 'Run jlab-mcp on a machine with the Slurm client tools, or run the sweep on the local backend.'
      : "Fix what Slurm names (the SLURM profile's partition, time, account, or max_concurrent) and start the sweep again.",
    context: { jobName },
  });
}

export type TaskRowsAnswer = { kind: 'rows'; rows: TaskRow[] } | { kind: 'error'; words: string };

/**
 * The array's tasks: squeue (live and recently ended tasks, one line each) and, for tasks it no
 * longer lists, sacct when accounting is on. An error only when neither answered.
 */
export async function taskRows(jobId: string, taskCount: number, options: CommandOptions): Promise<TaskRowsAnswer> {
  if (!/^\d+$/.test(jobId)) return { kind: 'error', words: `not a job id: ${JSON.stringify(jobId)}` };
  const squeue = await runCommand('squeue', ['--noheader', '--array', '--states=all', `--jobs=${jobId}`, `--format=${SQUEUE_TASK_FORMAT}`], options);
  // "Invalid job id" is an answer: Slurm has purged the job.
  const squeueAnswered = squeue.code === 0 || /Invalid job id/i.test(squeue.stderr);
  const rows = squeue.code === 0 ? parseSqueueTasks(squeue.stdout, jobId) : [];
  const listed = new Set(rows.map((row) => row.taskId));
  if (listed.size >= taskCount) return { kind: 'rows', rows };
  const sacct = await runCommand('sacct', ['--noheader', '--parsable2', '--allocations', `--jobs=${jobId}`, `--format=${SACCT_TASK_FIELDS}`], options);
  if (sacct.code === 0) {
    for (const row of parseSacctTasks(sacct.stdout, jobId)) if (!listed.has(row.taskId)) rows.push(row);
  } else if (!squeueAnswered) {
    return { kind: 'error', words: `squeue: ${wordsOf(squeue, 2)}; sacct: ${wordsOf(sacct, 2)}` };
  }
  return { kind: 'rows', rows };
}

/** `scancel <id>…`: resolves to Slurm's words when it failed, else undefined. */
export async function scancelIds(ids: string[], options: CommandOptions): Promise<string | undefined> {
  if (ids.length === 0) return undefined;
  const result = await runCommand('scancel', ids, options);
  return result.code === 0 ? undefined : wordsOf(result);
}
