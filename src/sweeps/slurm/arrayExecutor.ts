/**
 * The SLURM sweep executor: one array job per attempt (`sbatch --array=0-(N-1)%K`), each task
 * running one run's notebook in place with the runner (assets/sweeps/run_notebook.py). State
 * comes from the scheduler (squeue, then sacct) and the runs' status files, so a restarted
 * jlab-mcp polls and cancels from the SubmittedAttempt alone. The array job never depends on
 * jlab-mcp: only `cancel` stops it.
 */
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BatchSettings } from '../../backends/slurm/batchScript.js';
import { writeFileAtomic } from '../../notebook/atomicWrite.js';
import { JlabError } from '../../util/errors.js';
import { quoteWords } from '../../util/shell.js';
import type { RunReport, SubmittedAttempt, SweepExecutor, SweepLaunch } from '../types.js';
import { type ArrayFiles, SAY_PREFIX, arrayFiles, renderArrayScript, taskOutputFile } from './arrayScript.js';
import { maxArraySize, scancelIds, startEstimate, submitArray, taskRows } from './commands.js';
import type { TaskRow } from './parsers.js';
import { readRunStatus, statusPathOf } from './statusFile.js';
import { isLiveTaskState, runReportOf } from './taskReport.js';

const RUNNER_ASSET = fileURLToPath(new URL('../../../assets/sweeps/run_notebook.py', import.meta.url));

export interface SlurmSweepExecutorOptions {
  /** The job settings of a SLURM profile (undefined: the default); throws INVALID_ARGUMENT for an unknown name. */
  settingsFor(profile: string | undefined): BatchSettings;
  /** The record helper's Python (src/sweeps/recordHelper.ts RECORD_HELPER_PYTHON), run silently before each notebook. */
  recordHelperPython: string;
  /** Deadline of each Slurm command, in ms; default 30 000. */
  commandTimeoutMs?: number;
  /** The clock, for tests; default Date.now. */
  now?: () => number;
}

export class SlurmSweepExecutor implements SweepExecutor {
  readonly kind = 'slurm' as const;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SlurmSweepExecutorOptions) {
    this.timeoutMs = options.commandTimeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  private render(launch: SweepLaunch) {
    const settings = this.options.settingsFor(launch.profile);
    return renderArrayScript(settings, {
      sweepId: launch.sweepId,
      experimentDir: launch.experimentDir,
      attempt: launch.attempt,
      taskCount: launch.runs.length,
      maxConcurrent: launch.maxConcurrent,
      cellTimeoutS: launch.cellTimeoutS,
      kernelName: launch.kernelName,
    });
  }

  /** Refuses an array larger than the cluster's MaxArraySize, naming the largest allowed. */
  private async checkArraySize(count: number): Promise<void> {
    const max = await maxArraySize({ timeoutMs: this.timeoutMs, cwd: os.tmpdir() });
    if (max !== undefined && count > max) {
      throw new JlabError('INVALID_ARGUMENT', `The sweep has ${count} runs, but this cluster allows at most ${max} tasks in one array job (MaxArraySize).`, {
        hint: `Start at most ${max} runs per sweep (split the grid into several experiments); nothing was submitted.`,
        context: { runs: count, maxArraySize: max },
      });
    }
  }

  async plan(launch: SweepLaunch): Promise<{ command?: string; startEstimate?: string }> {
    const rendered = this.render(launch);
    await this.checkArraySize(launch.runs.length);
    const files = arrayFiles(launch.experimentDir, launch.attempt);
    const command = `sbatch ${quoteWords([...rendered.sbatchArgs, files.script])}`;
    // A dry run writes nothing in the experiment folder: the estimate is asked with a copy of the script.
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'jlab-sweep-plan-'));
    try {
      const script = path.join(scratch, 'attempt.sh');
      await writeFile(script, rendered.script, { mode: 0o700 });
      const estimate = await startEstimate(rendered.sbatchArgs, script, { timeoutMs: this.timeoutMs, cwd: scratch });
      return { command, startEstimate: estimate };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async submit(launch: SweepLaunch): Promise<SubmittedAttempt> {
    const rendered = this.render(launch);
    await this.checkArraySize(launch.runs.length);
    const files = arrayFiles(launch.experimentDir, launch.attempt);
    await this.writeFiles(files, launch, rendered.script);
    const submittedAt = new Date(this.now()).toISOString();
    const jobId = await submitArray(rendered.sbatchArgs, files.script, rendered.jobName, { timeoutMs: this.timeoutMs, cwd: launch.experimentDir });
    return {
      attempt: launch.attempt,
      jobId,
      runIndices: launch.runs.map((run) => run.index),
      submittedAt,
      command: `sbatch ${quoteWords([...rendered.sbatchArgs, files.script])}`,
    };
  }

  private async writeFiles(files: ArrayFiles, launch: SweepLaunch, script: string): Promise<void> {
    await mkdir(files.dir, { recursive: true });
    await writeFileAtomic(files.runner, await readFile(RUNNER_ASSET, 'utf8'));
    await writeFileAtomic(files.helper, this.options.recordHelperPython);
    const tasks = launch.runs.map((run) => ({ index: run.index, notebook: run.notebookPath }));
    await writeFileAtomic(files.tasks, `${JSON.stringify(tasks, null, 1)}\n`);
    await writeFileAtomic(files.script, script);
    // An earlier attempt's status must not stand for this one's until its task starts.
    await Promise.all(launch.runs.map((run) => rm(statusPathOf(run.notebookPath), { force: true })));
  }

  async poll(launch: SweepLaunch, attempt: SubmittedAttempt): Promise<RunReport[]> {
    const notebooks = new Map(launch.runs.map((run) => [run.index, run.notebookPath]));
    const notebookOf = (index: number) => notebooks.get(index) ?? defaultNotebookPath(launch.experimentDir, index);
    if (attempt.jobId === undefined) {
      return attempt.runIndices.map((index, taskId) => ({ index, state: 'failed', arrayTaskId: taskId, error: 'the array job was never submitted' }));
    }
    const jobId = attempt.jobId;
    const answer = await taskRows(jobId, attempt.runIndices.length, { timeoutMs: this.timeoutMs, cwd: os.tmpdir() });
    const rows = new Map<number, TaskRow>(answer.kind === 'rows' ? answer.rows.map((row) => [row.taskId, row]) : []);
    const files = arrayFiles(launch.experimentDir, attempt.attempt);
    const sinceSubmitMs = this.now() - Date.parse(attempt.submittedAt);
    const cancelled = await readCancelled(files);
    return mapInBatches(attempt.runIndices, STATUS_READS_AT_ONCE, async (index, taskId) => {
      const raw = await readRunStatus(notebookOf(index));
      const status = raw && raw.attempt === attempt.attempt && (!raw.jobId || raw.jobId === jobId) ? raw : undefined;
      const row = rows.get(taskId);
      const ended = row ? !isLiveTaskState(row.state) : answer.kind === 'rows';
      const outputTail = (status === undefined || status.state === 'running') && ended ? await lastSaid(taskOutputFile(files, jobId, taskId)) : undefined;
      return runReportOf({
        index,
        taskId,
        row,
        status,
        outputTail,
        schedulerAnswered: answer.kind === 'rows',
        cancelRequested: cancelled.all || cancelled.taskIds.includes(taskId),
        sinceSubmitMs: Number.isFinite(sinceSubmitMs) ? sinceSubmitMs : 0,
      });
    });
  }

  async cancel(launch: SweepLaunch, attempt: SubmittedAttempt, indices?: number[]): Promise<void> {
    if (attempt.jobId === undefined) return;
    let ids: string[];
    const files = arrayFiles(launch.experimentDir, attempt.attempt);
    const cancelled = await readCancelled(files);
    if (indices === undefined) {
      ids = [attempt.jobId];
      cancelled.all = true;
    } else {
      const missing = indices.filter((index) => !attempt.runIndices.includes(index));
      if (missing.length > 0) {
        throw new JlabError('INVALID_ARGUMENT', `Runs ${missing.join(', ')} are not in attempt ${attempt.attempt} of this sweep.`, {
          hint: `This attempt has runs ${attempt.runIndices.join(', ')}.`,
        });
      }
      const taskIds = indices.map((index) => attempt.runIndices.indexOf(index));
      ids = taskIds.map((taskId) => `${attempt.jobId}_${taskId}`);
      cancelled.taskIds = [...new Set([...cancelled.taskIds, ...taskIds])].sort((a, b) => a - b);
    }
    // Written before scancel: a poll after it must read the vanished tasks as cancelled.
    await mkdir(files.dir, { recursive: true });
    await writeFileAtomic(files.cancelled, `${JSON.stringify(cancelled)}\n`);
    const failed = await scancelIds(ids, { timeoutMs: this.timeoutMs, cwd: os.tmpdir() });
    // A task that already ended cannot be cancelled, and need not be.
    if (failed && !/already completing or completed|Invalid job id/i.test(failed)) {
      throw new JlabError('SERVER_UNAVAILABLE', `scancel ${ids.join(' ')} failed: ${failed}`, {
        hint: 'Slurm did not take the cancel; call cancel_sweep again.',
      });
    }
  }
}

/** Status files read at once: a 1,000-run array must not run out of file descriptors (a failed read would look like a lost run). */
const STATUS_READS_AT_ONCE = 64;

/** `task` over `items` (with their positions), at most `limit` at a time, results in order. */
async function mapInBatches<T, R>(items: readonly T[], limit: number, task: (item: T, position: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += limit) {
    results.push(...(await Promise.all(items.slice(start, start + limit).map((item, offset) => task(item, start + offset)))));
  }
  return results;
}

/** The attempt's cancel requests; none when the file is absent or unreadable. */
async function readCancelled(files: ArrayFiles): Promise<{ all: boolean; taskIds: number[] }> {
  try {
    const json = JSON.parse(await readFile(files.cancelled, 'utf8')) as { all?: unknown; taskIds?: unknown };
    const taskIds = Array.isArray(json.taskIds) ? json.taskIds.filter((id): id is number => Number.isInteger(id)) : [];
    return { all: json.all === true, taskIds };
  } catch {
    return { all: false, taskIds: [] };
  }
}

/** `run-0007.ipynb` (4 digits, more when needed), the contract's name, when the launch does not list the run. */
function defaultNotebookPath(experimentDir: string, index: number): string {
  return path.join(experimentDir, `run-${String(index).padStart(4, '0')}.ipynb`);
}

/** What the batch shell said last (e.g. nbclient missing), else the output's last line; from its last 4 kB. */
async function lastSaid(file: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const said = lines.filter((line) => line.startsWith(SAY_PREFIX)).at(-1);
    return (said?.slice(SAY_PREFIX.length) ?? lines.at(-1))?.slice(0, 300);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}
