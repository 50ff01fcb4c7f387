import os from 'node:os';
import { KernelHandle } from '../jupyter/kernel.js';
import type { ServerPool } from '../sessions/serverPool.js';
import { withDeadline } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { executeRun, type RunKernel, type StopReason, stoppedStatus } from './runNotebook.js';
import { readRunStatus, type RunStatus, writeRunStatus } from './runStatus.js';
import type { PlannedRun, RunReport, SubmittedAttempt, SweepExecutor, SweepLaunch } from './types.js';

export interface LocalExecutorOptions {
  kind: 'local' | 'external';
  servers: ServerPool;
  kernelStartTimeoutMs: number;
  defaultKernel?: string;
  /** Characters one stream output keeps in a run's notebook. */
  outputLimit?: number;
  /** How often a running cell's output so far is saved, in ms. */
  saveIntervalMs: number;
  /** Where kernels come from (default: real ones on the profile's Jupyter server); the unit tests give fakes. */
  startKernel?: (launch: SweepLaunch, kernelName: string | undefined) => Promise<RunKernel>;
  /** Shuts down a kernel by id (default: through the profile's Jupyter server); for runs an earlier jlab-mcp left running. */
  shutdownKernel?: (launch: SweepLaunch, kernelId: string) => Promise<void>;
}

interface RunSlot {
  run: PlannedRun;
  status: RunStatus;
  stop: AbortController;
  /** Status-file writes of this run, in order (two renames racing could land the older last). */
  writes: Promise<void>;
  ended: Promise<void>;
  markEnded: () => void;
}

/** How long cancel and shutdown wait for running runs to end, in ms. */
const STOP_WAIT_MS = 15_000;
const ORPHAN_SHUTDOWN_MS = 10_000;

/**
 * Runs a sweep on the session server's Jupyter kernels: at most `maxConcurrent` runs at once,
 * each on a fresh kernel shut down after it. State lives in memory and in each run's status
 * file; after a restart of jlab-mcp a run that was pending or running is reported failed
 * ("jlab-mcp exited"), since its kernel went with the process that drove it.
 */
export class LocalSweepExecutor implements SweepExecutor {
  readonly kind: 'local' | 'external';
  private readonly attempts = new Map<string, Map<number, RunSlot>>();
  private readonly pools = new Set<Promise<void>>();
  private closed = false;
  private readonly orphansShut = new Set<string>();

  constructor(private readonly options: LocalExecutorOptions) {
    this.kind = options.kind;
  }

  async plan(): Promise<{ command?: string; startEstimate?: string }> {
    return {};
  }

  async submit(launch: SweepLaunch): Promise<SubmittedAttempt> {
    const slots = new Map<number, RunSlot>();
    for (const run of launch.runs) {
      let markEnded!: () => void;
      const ended = new Promise<void>((resolve) => (markEnded = resolve));
      const slot: RunSlot = { run, status: { state: 'pending' }, stop: new AbortController(), writes: Promise.resolve(), ended, markEnded };
      slots.set(run.index, slot);
      this.record(slot, slot.status);
    }
    this.attempts.set(keyOf(launch.sweepId, launch.attempt), slots);
    const queue = [...slots.values()];
    const worker = async () => {
      for (let slot = queue.shift(); slot; slot = queue.shift()) await this.runSlot(launch, slot);
    };
    const pool = Promise.all(Array.from({ length: Math.min(launch.maxConcurrent, queue.length) }, worker)).then(() => {});
    this.pools.add(pool);
    void pool.finally(() => this.pools.delete(pool));
    return { attempt: launch.attempt, runIndices: launch.runs.map((run) => run.index), submittedAt: new Date().toISOString() };
  }

  async poll(launch: SweepLaunch, attempt: SubmittedAttempt): Promise<RunReport[]> {
    const slots = this.attempts.get(keyOf(launch.sweepId, attempt.attempt));
    if (slots) {
      return attempt.runIndices.map((index) => {
        const { kernelId: _kernelId, ...status } = slots.get(index)?.status ?? { state: 'pending' as const };
        return { index, ...status };
      });
    }
    const byIndex = new Map(launch.runs.map((run) => [run.index, run]));
    return Promise.all(
      attempt.runIndices.map(async (index): Promise<RunReport> => {
        const run = byIndex.get(index);
        const { kernelId, ...status } = (run ? await readRunStatus(run.notebookPath) : undefined) ?? { state: 'pending' as const };
        if (status.state !== 'pending' && status.state !== 'running') return { index, ...status };
        // Cut short by an earlier jlab-mcp that died without ending it: its kernel may still run.
        if (kernelId) await this.shutdownOrphan(launch, kernelId);
        return { index, ...status, state: 'failed', error: 'jlab-mcp exited before this run ended', endedAt: status.startedAt };
      }),
    );
  }

  async cancel(launch: SweepLaunch, attempt: SubmittedAttempt, indices?: number[]): Promise<void> {
    const slots = this.attempts.get(keyOf(launch.sweepId, attempt.attempt));
    if (!slots) return;
    const chosen = [...slots.values()].filter((slot) => !indices || indices.includes(slot.run.index));
    await this.stop(chosen, 'cancelled');
  }

  /** jlab-mcp exits: pending runs never start, running ones stop (failed, "jlab-mcp exited"), their kernels shut down. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await this.stop(
      [...this.attempts.values()].flatMap((slots) => [...slots.values()]),
      'exited',
    );
  }

  private async stop(slots: RunSlot[], reason: StopReason): Promise<void> {
    const live = slots.filter((slot) => slot.status.state === 'pending' || slot.status.state === 'running');
    for (const slot of live) {
      slot.stop.abort(reason);
      // A run still queued ends now, not when a worker reaches it behind a long run.
      if (slot.status.state === 'pending') {
        this.record(slot, { ...slot.status, ...stoppedStatus(reason), endedAt: new Date().toISOString() });
        slot.markEnded();
      }
    }
    const done = Promise.all(live.map((slot) => slot.ended.then(() => slot.writes)));
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
  }

  private async runSlot(launch: SweepLaunch, slot: RunSlot): Promise<void> {
    if (slot.stop.signal.aborted) return; // stopped while queued: its status is written
    try {
      const status = await executeRun(slot.run, {
        startKernel: (kernelName) => this.startKernel(launch, kernelName),
        cellTimeoutS: launch.cellTimeoutS,
        outputLimit: this.options.outputLimit,
        saveIntervalMs: this.options.saveIntervalMs,
        node: this.options.kind === 'local' ? os.hostname() : undefined,
        signal: slot.stop.signal,
        onStatus: (next) => this.record(slot, next),
      });
      this.record(slot, status);
    } catch (error) {
      this.record(slot, { ...slot.status, state: 'failed', error: messageOf(error), endedAt: new Date().toISOString() });
    } finally {
      slot.markEnded();
    }
  }

  /** Shuts an orphaned kernel down once, within a deadline; a kernel already gone is fine. */
  private async shutdownOrphan(launch: SweepLaunch, kernelId: string): Promise<void> {
    if (this.orphansShut.has(kernelId)) return;
    this.orphansShut.add(kernelId);
    const shutdown =
      this.options.shutdownKernel?.(launch, kernelId) ??
      this.options.servers
        .get(launch.profile)
        .ready()
        .then((rest) => rest.shutdownKernel(kernelId));
    await withDeadline(shutdown, ORPHAN_SHUTDOWN_MS, `Shutdown of kernel ${kernelId}`).catch((error: unknown) =>
      log.debug(`sweep ${launch.sweepId}: kernel ${kernelId} of a run cut short: ${messageOf(error)}`),
    );
  }

  private startKernel(launch: SweepLaunch, kernelName: string | undefined): Promise<RunKernel> {
    if (this.closed) return Promise.reject(new Error('jlab-mcp exited'));
    const name = launch.kernelName ?? kernelName ?? this.options.defaultKernel;
    if (this.options.startKernel) return this.options.startKernel(launch, name);
    return this.options.servers
      .get(launch.profile)
      .ready()
      .then((rest) => KernelHandle.start(rest, name, this.options.kernelStartTimeoutMs));
  }

  private record(slot: RunSlot, status: RunStatus): void {
    slot.status = status;
    slot.writes = slot.writes
      .then(() => writeRunStatus(slot.run.notebookPath, status))
      .catch((error: unknown) => log.warn(`sweep run ${slot.run.index}: could not write its status file: ${messageOf(error)}`));
  }
}

function keyOf(sweepId: string, attempt: number): string {
  return `${sweepId}#${attempt}`;
}
