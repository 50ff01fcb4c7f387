import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { JlabError, messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { redactSecrets } from '../../util/secrets.js';
import type { JupyterBackend } from '../types.js';
import { validateBatchSettings, type BatchSettings } from './batchScript.js';
import { scancel, squeueJob, type SqueueAnswer } from './commands.js';
import { describeJob, summaryOf } from './format.js';
import { startHeartbeat } from './heartbeat.js';
import type { Job, Phase } from './job.js';
import { createJob, logFileOf, logTail, removeJobDir, writeHeartbeat } from './jobFiles.js';
import { lossVerdict } from './loss.js';
import { isTerminalState } from './parsers.js';
import { cancelByName, submitJob } from './submit.js';
import { waitUntilReady, waitUntilRunning } from './waits.js';

export interface SlurmBackendOptions {
  batch: BatchSettings;
  /** Jupyter's root_dir (the notebook directory; must be visible on the compute node). */
  rootDir: string;
  /** Parent of the per-job 0700 directories, on the filesystem shared with the compute nodes. */
  stateDir: string;
  queueTimeoutMs: number;
  readyTimeoutMs: number;
  heartbeatTimeoutS: number;
  keepOnQueueTimeout: boolean;
  /** Timeout of each sbatch/squeue/scancel call, in ms; default 15 000. */
  commandTimeoutMs?: number;
}

/** How long one squeue answer serves checkLost(). */
const CHECK_CACHE_MS = 2000;

/**
 * One batch job hosts the Jupyter server every session uses. start(): submitted → pending (with
 * Slurm's reason) → running on a node → Jupyter ready, each wait with its own deadline and
 * progress in the log. The token travels in a 0600 file in a 0700 per-job directory on the
 * shared filesystem (never in argv, sbatch's command line or the job's environment). While the
 * job lives, a heartbeat file is rewritten every ≤ timeout/3; the job stops itself when it goes
 * stale, so a SIGKILLed jlab-mcp does not leave it burning its allocation. Every job has a
 * unique name, so one whose id sbatch never gave back is still found and cancelled.
 */
export class SlurmBackend implements JupyterBackend {
  readonly kind = 'slurm' as const;
  private phase: Phase = 'idle';
  private job?: Job;
  private stopBeating?: () => void;
  private lastError?: string;
  private lostCache?: { at: number; reason: string | undefined };
  private lostCheck?: Promise<string | undefined>;
  /** Bumped by stop(): a start that finds it changed gives up (and cancels what it submitted). */
  private epoch = 0;
  private readonly commandTimeoutMs: number;

  constructor(private readonly options: SlurmBackendOptions) {
    validateBatchSettings(options.batch);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15_000;
  }

  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    let job = this.job;
    if (job?.kept && job.id) {
      job.kept = false;
      log.info(`waiting again for SLURM job ${job.id}, kept in the queue after the last queue timeout`);
    } else {
      await this.stop();
      job = await createJob(this.options);
      this.job = job;
    }
    const epoch = this.epoch;
    const gaveUp = () => signal.aborted || this.epoch !== epoch;
    try {
      if (!job.id) await this.submit(job, gaveUp);
      this.phase = 'pending';
      const ctx = {
        job,
        signal,
        gaveUp,
        queueTimeoutMs: this.options.queueTimeoutMs,
        readyTimeoutMs: this.options.readyTimeoutMs,
        keepOnQueueTimeout: this.options.keepOnQueueTimeout,
        query: () => this.query(job),
        ended: (what: string) => this.endedError(job, what),
        logTail: () => logTail(job, this.options.stateDir),
      };
      await waitUntilRunning(ctx);
      this.phase = 'running';
      const endpoint = await waitUntilReady(ctx);
      this.phase = 'ready';
      this.lostCache = undefined;
      this.lastError = undefined;
      return endpoint;
    } catch (error) {
      const message = messageOf(error);
      if (this.epoch === epoch) {
        this.phase = job.kept ? 'pending' : 'failed';
        this.lastError = redactSecrets(message);
        if (!job.kept && job.id) await this.cancel(job);
        if (!job.kept) this.stopHeartbeat();
      }
      throw error;
    }
  }

  private async submit(job: Job, gaveUp: () => boolean): Promise<void> {
    this.phase = 'submitting';
    await writeHeartbeat(job);
    this.startHeartbeat(job);
    if (gaveUp()) throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
    log.info(`SLURM: submitting the Jupyter job (sbatch ${job.sbatchArgs.join(' ')} ${job.scriptFile})`);
    const abort = new AbortController();
    job.abortSubmit = abort;
    job.handedToSbatch = true;
    const step = submitJob(job, abort.signal, this.commandTimeoutMs);
    job.submitting = step.then(
      () => {},
      () => {},
    );
    const { jobId, cluster } = await step.finally(() => {
      job.abortSubmit = undefined;
    });
    job.id = jobId;
    job.submittedAt = Date.now();
    log.info(`SLURM: submitted job ${jobId}${cluster ? ` on cluster ${cluster}` : ''}; log ${logFileOf(job)}`);
    if (gaveUp()) {
      await this.cancel(job);
      throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
    }
  }

  private async query(job: Job): Promise<SqueueAnswer> {
    const answer = await squeueJob(job.id!, { timeoutMs: this.commandTimeoutMs });
    if (answer.kind === 'row') job.row = answer.row;
    job.checkedAt = Date.now();
    return answer;
  }

  private async endedError(job: Job, what: string): Promise<JlabError> {
    return new JlabError('SERVER_START_FAILED', `SLURM job ${job.id} ${what}.\n--- the job's log ${logFileOf(job)} (last lines) ---\n${await logTail(job, this.options.stateDir)}`, {
      hint: 'Fix the cause shown in the job log (JLAB_MCP_SLURM_JUPYTER_CMD, _MODULES, _SETUP); the next tool call submits again.',
      context: { jobId: job.id },
    });
  }

  async checkLost(): Promise<string | undefined> {
    // Many sessions may ask at once (each dropped websocket does): one squeue answers them all.
    this.lostCheck ??= this.checkLostNow().finally(() => {
      this.lostCheck = undefined;
    });
    return this.lostCheck;
  }

  private async checkLostNow(): Promise<string | undefined> {
    const job = this.job;
    if (this.phase === 'lost') return this.lostCache?.reason;
    if (this.phase !== 'ready' || !job?.id) return undefined;
    if (this.lostCache && Date.now() - this.lostCache.at < CHECK_CACHE_MS) return this.lostCache.reason;
    const answer = await squeueJob(job.id, { timeoutMs: Math.min(this.commandTimeoutMs, 5000) });
    job.checkedAt = Date.now();
    if (answer.kind === 'row') job.row = answer.row;
    const verdict = lossVerdict(job.id, answer);
    let reason: string | undefined;
    if (verdict.kind === 'lost') reason = `${verdict.what}\n--- the job's log (last lines) ---\n${await logTail(job, this.options.stateDir)}`;
    else if (verdict.kind === 'unknown') log.warn(`SLURM: squeue failed while checking job ${job.id}: ${verdict.words}`);
    this.lostCache = { at: Date.now(), reason };
    if (reason) {
      this.phase = 'lost';
      this.stopHeartbeat();
    }
    return reason;
  }

  async stop(): Promise<void> {
    this.epoch++;
    this.stopHeartbeat();
    const job = this.job;
    this.job = undefined;
    this.lostCache = undefined;
    if (this.phase !== 'failed') this.phase = 'idle';
    if (!job) return;
    job.abortSubmit?.abort();
    await job.submitting;
    if (job.id) await this.cancel(job);
    // A second look: sbatch may have been killed while the controller was still taking the job.
    else if (job.handedToSbatch) await cancelByName(job, this.commandTimeoutMs);
    await removeJobDir(job);
  }

  private async cancel(job: Job): Promise<void> {
    if (!job.id || job.cancelled) return;
    if (job.row && isTerminalState(job.row.state)) return;
    job.cancelled = true;
    const failed = await scancel(job.id, { timeoutMs: this.commandTimeoutMs });
    if (failed) log.warn(`SLURM: scancel ${job.id} failed: ${failed}`);
    else log.info(`SLURM: cancelled job ${job.id}`);
  }

  private startHeartbeat(job: Job): void {
    this.stopHeartbeat();
    this.stopBeating = startHeartbeat(job, this.options.heartbeatTimeoutS, () => {
      // Keeps state and time left fresh for the status resource between tool calls.
      if (this.phase === 'ready' && job.id) void this.query(job).catch(() => {});
    });
  }

  private stopHeartbeat(): void {
    this.stopBeating?.();
    this.stopBeating = undefined;
  }

  /** One line for people: where the start is, e.g. "job 12 pending (Resources) for 40 s". */
  summary(): string {
    return summaryOf(this.phase, this.job);
  }

  describe(): Record<string, unknown> {
    const { stateDir, batch, heartbeatTimeoutS } = this.options;
    return describeJob({ phase: this.phase, job: this.job, stateDir, batch, heartbeatTimeoutS, lastError: this.lastError });
  }
}
