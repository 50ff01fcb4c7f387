import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveNotebookPath } from '../notebook/confine.js';
import { parseNotebookText } from '../notebook/document.js';
import { sanitizeStem } from '../notebook/naming.js';
import type { NotebookContent } from '../notebook/types.js';
import type { SweepRecord } from '../state/records.js';
import type { SessionRegistry } from '../state/registry.js';
import { sleep } from '../util/deadline.js';
import { JlabError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { Mutex } from '../util/mutex.js';
import { parameterLanguageOf, type ParameterLanguage } from './parameterLanguage.js';
import { planParameterSets, runNotebookPath, type SweepGrid } from './plan.js';
import { countStates, isEnded, type ResultRow, resultRow, writeResults } from './results.js';
import { readScraps } from './scraps.js';
import { assertNoSweepIn, removeSweepFiles, writeSweepFiles } from './sweepFiles.js';
import type { PlannedRun, RunReport, SubmittedAttempt, SweepExecutor, SweepLaunch } from './types.js';

export type ExecutorKind = SweepExecutor['kind'];

const SLURM_POLL_MS = 15_000;

export interface SweepManagerOptions {
  notebookDir: string;
  /** JLAB_MCP_SWEEP_MAX_RUNS. */
  maxRuns: number;
  /** Where new sweeps run: the run mode of this jlab-mcp. */
  kind: ExecutorKind;
  /** max_concurrent when the call gives none (locally: the number of CPUs). */
  defaultMaxConcurrent: number;
  defaultKernel?: string;
  /** Sweeps are kept here and outlive the process; without one they live in memory only. */
  registry?: SessionRegistry;
  /** The executor of a kind; throws a JlabError when this jlab-mcp cannot drive that kind. */
  executorFor(kind: ExecutorKind): SweepExecutor;
  /** How often unfinished sweeps are polled (and their results rewritten), in ms; default 2000 (SLURM: at least 15 000, sacct is shared). */
  pollIntervalMs?: number;
}

export interface StartSweepRequest extends SweepGrid {
  notebookPath: string;
  experimentName: string;
  maxConcurrent?: number;
  profile?: string;
  cellTimeoutS?: number;
  dryRun?: boolean;
}

export interface SweepView {
  record: SweepRecord;
  rows: ResultRow[];
}

export type RerunSelection = 'failed' | 'all' | number[];

/**
 * Plans, starts and follows sweeps: checks the request (nothing written when it is refused),
 * writes one notebook per run, hands the runs to the executor of the run mode, keeps the
 * record in the registry and the results table in the experiment folder up to date as runs
 * end. An exit of jlab-mcp never cancels a sweep (only cancel_sweep does): SLURM runs go on,
 * local ones end with the process that drove them and say so.
 */
export class SweepManager {
  private readonly memory = new Map<string, SweepRecord>();
  /** Values read from ended runs' notebooks, by sweep and run, with the ending they belong to. */
  private readonly valuesCache = new Map<string, { ending: string; values: Record<string, unknown> }>();
  private readonly watching = new Set<string>();
  private readonly closing = new AbortController();
  private readonly pollIntervalMs: number;
  /** One refresh of the table at a time: two rewrites racing could leave the older one in place. */
  private readonly refreshing = new Mutex();

  constructor(private readonly options: SweepManagerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    for (const record of Object.values(options.registry?.sweeps ?? {})) {
      this.memory.set(record.id, record);
      if (!this.allEnded(record)) this.watch(record.id);
    }
  }

  list(): SweepRecord[] {
    return [...this.memory.values()];
  }

  get(sweepId: string): SweepRecord {
    const record = this.memory.get(sweepId);
    if (record) return record;
    const known = [...this.memory.keys()];
    throw new JlabError('UNKNOWN_SWEEP', `Unknown sweep: ${sweepId}.`, {
      hint: known.length ? `Known sweeps: ${known.slice(-10).join(', ')} (list_sweeps shows them).` : 'There are no sweeps yet; start one with start_sweep.',
    });
  }

  /** Checks and plans a sweep; unless `dryRun`, writes its notebooks and submits it. */
  async start(request: StartSweepRequest): Promise<{ record: SweepRecord; plan: { command?: string; startEstimate?: string }; injectedAtTop: boolean }> {
    const notebookPath = await resolveNotebookPath(this.options.notebookDir, request.notebookPath);
    const source = parseNotebookText(await readFile(notebookPath, 'utf8'), notebookPath);
    const language = languageOf(source);
    const sets = planParameterSets(request, language, this.options.maxRuns);
    const maxConcurrent = request.maxConcurrent ?? this.options.defaultMaxConcurrent;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new JlabError('INVALID_ARGUMENT', `max_concurrent must be a whole number ≥ 1, not ${maxConcurrent}.`, { hint: 'Pass max_concurrent=1 or more.' });
    }
    if (request.cellTimeoutS !== undefined && !(request.cellTimeoutS > 0)) {
      throw new JlabError('INVALID_ARGUMENT', `cell_timeout must be a positive number of seconds, not ${request.cellTimeoutS}.`, {
        hint: 'Pass e.g. cell_timeout=600.',
      });
    }
    const experimentDir = path.join(path.dirname(notebookPath), sanitizeStem(request.experimentName));
    await assertNoSweepIn(experimentDir, this.list().find((each) => each.experimentDir === experimentDir)?.id);
    let id = randomBytes(4).toString('hex');
    while (this.memory.has(id)) id = randomBytes(4).toString('hex');
    const runs: PlannedRun[] = sets.map((parameters, index) => ({ index, parameters, notebookPath: runNotebookPath(experimentDir, index, sets.length) }));
    const kernelName = stringOrUndefined(source.metadata.kernelspec?.name) ?? this.options.defaultKernel;
    const record: SweepRecord = {
      id,
      notebookPath,
      experimentName: request.experimentName,
      experimentDir,
      executor: this.options.kind,
      ...(request.profile !== undefined && { profile: request.profile }),
      ...(kernelName !== undefined && { kernelName }),
      maxConcurrent,
      ...(request.cellTimeoutS !== undefined && { cellTimeoutS: request.cellTimeoutS }),
      createdAt: new Date().toISOString(),
      runs,
      attempts: [],
      reports: {},
    };
    const executor = this.options.executorFor(record.executor);
    const launch = launchOf(record, runs, 1);
    // Only a dry run asks for the plan: on SLURM that is an `sbatch --test-only` round trip.
    if (request.dryRun) return { record, plan: await executor.plan(launch), injectedAtTop: !hasParametersCell(source) };
    const marker = { sweep_id: id, notebook: notebookPath, created_at: record.createdAt, runs: runs.map(({ index, parameters }) => ({ index, parameters })) };
    const { injectedAtTop, folderIsOurs } = await writeSweepFiles(experimentDir, source, runs, language, marker);
    let attempt: SubmittedAttempt;
    try {
      attempt = await executor.submit(launch);
    } catch (error) {
      await removeSweepFiles(experimentDir, runs, folderIsOurs);
      throw error;
    }
    record.attempts.push(attempt);
    for (const run of runs) record.reports[run.index] = { index: run.index, state: 'pending' };
    this.save(record);
    await this.writeTable(record, await this.rowsOf(record));
    this.watch(id);
    log.info(`sweep ${id}: ${runs.length} runs of ${notebookPath} submitted (${record.executor})`);
    return { record, plan: { command: attempt.command }, injectedAtTop };
  }

  /** The sweep now: every run's state from its executor, the table rewritten when anything changed. */
  async status(sweepId: string): Promise<SweepView> {
    const record = this.get(sweepId);
    return this.refreshing.run(async () => {
      const changed = await this.refresh(record);
      const rows = await this.rowsOf(record);
      if (changed) await this.writeTable(record, rows);
      return { record, rows };
    });
  }

  /** Cancels runs that have not ended (all when `indices` is undefined); pending ones never start. */
  async cancel(sweepId: string, indices?: number[]): Promise<SweepView> {
    const record = this.get(sweepId);
    if (indices) this.checkIndices(record, indices);
    await this.refresh(record);
    const executor = this.options.executorFor(record.executor);
    for (const attempt of record.attempts) {
      const live = attempt.runIndices.filter((index) => (!indices || indices.includes(index)) && !isEnded(record.reports[index]?.state ?? 'pending'));
      if (live.length === 0) continue;
      await executor.cancel(launchOf(record, this.runsOf(record, attempt.runIndices), attempt.attempt), attempt, indices ? live : undefined);
    }
    return this.status(sweepId);
  }

  /** A new attempt of the sweep for some runs: same notebooks (re-injected, outputs cleared), history kept in `attempts`. */
  async rerun(sweepId: string, only: RerunSelection): Promise<SweepView> {
    const record = this.get(sweepId);
    await this.refresh(record);
    const state = (index: number) => record.reports[index]?.state ?? 'pending';
    const indices =
      only === 'all'
        ? record.runs.map((run) => run.index)
        : only === 'failed'
          ? record.runs.map((run) => run.index).filter((index) => state(index) === 'failed' || state(index) === 'timeout')
          : [...new Set(only)].sort((a, b) => a - b);
    if (Array.isArray(only)) this.checkIndices(record, indices);
    if (indices.length === 0) {
      throw new JlabError('INVALID_ARGUMENT', `Sweep ${sweepId} has no ${only === 'failed' ? 'failed' : 'chosen'} runs to run again.`, {
        hint: 'Check sweep_status; only="all" runs every run again.',
      });
    }
    const live = indices.filter((index) => !isEnded(state(index)));
    if (live.length > 0) {
      throw new JlabError('INVALID_ARGUMENT', `Runs ${live.join(', ')} of sweep ${sweepId} have not ended.`, {
        hint: `Wait for them, or cancel them first with cancel_sweep (run_indices ${live.join(', ')}).`,
      });
    }
    const runs = this.runsOf(record, indices);
    const source = parseNotebookText(await readFile(record.notebookPath, 'utf8'), record.notebookPath);
    await writeSweepFiles(record.experimentDir, source, runs, languageOf(source), {
      sweep_id: record.id,
      notebook: record.notebookPath,
      created_at: record.createdAt,
      runs: record.runs.map(({ index, parameters }) => ({ index, parameters })),
    });
    const launch = launchOf(record, runs, record.attempts.length + 1);
    const attempt = await this.options.executorFor(record.executor).submit(launch);
    record.attempts.push(attempt);
    for (const index of indices) {
      record.reports[index] = { index, state: 'pending' };
      this.valuesCache.delete(`${record.id}:${index}`);
    }
    this.save(record);
    this.watch(record.id);
    return this.status(sweepId);
  }

  /** Resolves once every run of the sweep has ended (or `signal` aborts), telling `onProgress` how far it is. */
  async waitUntilEnded(sweepId: string, signal: AbortSignal, onProgress: (message: string) => void): Promise<SweepView> {
    for (;;) {
      const view = await this.status(sweepId);
      onProgress(progressText(view.rows));
      if (view.rows.every((row) => isEnded(row.status)) || signal.aborted) return view;
      await sleep(this.intervalFor(view.record), signal).catch(() => {});
    }
  }

  /** jlab-mcp exits: polling stops; executors that run in this process end their runs (never SLURM's). */
  async shutdown(stopLocalRuns: () => Promise<void>): Promise<void> {
    this.closing.abort();
    await stopLocalRuns();
    for (const record of this.memory.values()) {
      if (this.allEnded(record)) continue;
      await this.status(record.id).catch((error: unknown) => log.warn(`sweep ${record.id}: ${messageOf(error)}`));
    }
  }

  /** sacct is the cluster's shared accounting database: asked at most every 15 s per sweep. */
  private intervalFor(record: SweepRecord): number {
    return record.executor === 'slurm' ? Math.max(this.pollIntervalMs, SLURM_POLL_MS) : this.pollIntervalMs;
  }

  private allEnded(record: SweepRecord): boolean {
    return record.runs.every((run) => isEnded(record.reports[run.index]?.state ?? 'pending'));
  }

  /** Polls unfinished sweeps in the background, so their results are written as runs end even when nobody asks. */
  private watch(sweepId: string): void {
    if (this.watching.has(sweepId) || this.closing.signal.aborted) return;
    this.watching.add(sweepId);
    void (async () => {
      try {
        while (!this.closing.signal.aborted) {
          await backgroundPause(this.intervalFor(this.get(sweepId)), this.closing.signal);
          const view = await this.status(sweepId).catch((error: unknown) => {
            log.debug(`sweep ${sweepId} poll: ${messageOf(error)}`);
            return undefined;
          });
          if (view?.rows.every((row) => isEnded(row.status))) return;
        }
      } catch {
        // closing
      } finally {
        this.watching.delete(sweepId);
      }
    })();
  }

  /** Asks the executor about every attempt; the newest attempt of a run wins. True when any report changed. */
  private async refresh(record: SweepRecord): Promise<boolean> {
    if (this.allEnded(record)) return false;
    const executor = this.options.executorFor(record.executor);
    const latest = new Map<number, number>();
    for (const attempt of record.attempts) for (const index of attempt.runIndices) latest.set(index, attempt.attempt);
    let changed = false;
    for (const attempt of record.attempts) {
      const mine = attempt.runIndices.filter((index) => latest.get(index) === attempt.attempt);
      if (mine.every((index) => isEnded(record.reports[index]?.state ?? 'pending'))) continue;
      const reports: RunReport[] = await executor.poll(launchOf(record, this.runsOf(record, attempt.runIndices), attempt.attempt), attempt);
      for (const report of reports) {
        if (latest.get(report.index) !== attempt.attempt) continue;
        const clean = JSON.parse(JSON.stringify(report)) as RunReport;
        if (JSON.stringify(record.reports[report.index]) === JSON.stringify(clean)) continue;
        record.reports[report.index] = clean;
        changed = true;
      }
    }
    if (changed) this.save(record);
    return changed;
  }

  private async rowsOf(record: SweepRecord): Promise<ResultRow[]> {
    return Promise.all(
      record.runs.map(async (run) => {
        const report = record.reports[run.index];
        const key = `${record.id}:${run.index}`;
        const ending = `${report?.state}@${report?.endedAt ?? ''}`;
        let values: Record<string, unknown> = {};
        if (report && report.state !== 'pending') {
          const cached = this.valuesCache.get(key);
          if (cached?.ending === ending) values = cached.values;
          else {
            values = await readScraps(run.notebookPath);
            if (isEnded(report.state)) this.valuesCache.set(key, { ending, values });
          }
        }
        return resultRow(run, report, values);
      }),
    );
  }

  private async writeTable(record: SweepRecord, rows: ResultRow[]): Promise<void> {
    await writeResults(record.experimentDir, record.id, rows).catch((error: unknown) =>
      log.warn(`sweep ${record.id}: could not write the results in ${record.experimentDir}: ${messageOf(error)}`),
    );
  }

  private save(record: SweepRecord): void {
    this.memory.set(record.id, record);
    this.options.registry?.setSweep(record);
  }

  private runsOf(record: SweepRecord, indices: readonly number[]): PlannedRun[] {
    const wanted = new Set(indices);
    return record.runs.filter((run) => wanted.has(run.index));
  }

  private checkIndices(record: SweepRecord, indices: readonly number[]): void {
    const bad = indices.filter((index) => !record.runs.some((run) => run.index === index));
    if (bad.length === 0) return;
    throw new JlabError('INVALID_ARGUMENT', `Sweep ${record.id} has no run ${bad.join(', ')}; its runs are 0 to ${record.runs.length - 1}.`, {
      hint: 'Pass run indices from sweep_status.',
    });
  }
}

/** "12 of 40 done, 2 failed" (failed counts timeouts too; cancelled runs are said when there are any). */
export function progressText(rows: readonly ResultRow[]): string {
  const counts = countStates(rows);
  const done = rows.length - counts.pending - counts.running;
  const failed = counts.failed + counts.timeout;
  return `${done} of ${rows.length} done, ${failed} failed${counts.cancelled ? `, ${counts.cancelled} cancelled` : ''}`;
}

function launchOf(record: SweepRecord, runs: PlannedRun[], attempt: number): SweepLaunch {
  return {
    sweepId: record.id,
    experimentDir: record.experimentDir,
    runs,
    maxConcurrent: record.maxConcurrent,
    cellTimeoutS: record.cellTimeoutS,
    profile: record.profile,
    attempt,
    kernelName: record.kernelName,
  };
}

/** Like sleep, but a pause of the background poller never keeps the process alive on its own. */
function backgroundPause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms).unref();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function languageOf(source: NotebookContent): ParameterLanguage {
  return parameterLanguageOf(stringOrUndefined(source.metadata.kernelspec?.language) ?? stringOrUndefined(source.metadata.language_info?.name));
}

function hasParametersCell(source: NotebookContent): boolean {
  return source.cells.some((cell) => JSON.stringify((cell.metadata as { tags?: unknown }).tags ?? []).includes('"parameters"'));
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
