import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { JupyterRestClient } from '../../jupyter/restClient.js';
import { JlabError, messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { displayUrl, redactSecrets } from '../../util/secrets.js';
import type { JupyterBackend, RecordBody, WalltimeCapability } from '../types.js';
import { validateBatchSettings, type BatchSettings } from './batchScript.js';
import { capacityWords, refusedForSize } from './capacity.js';
import { scancel, sinfoCapacity, squeueJob, type SqueueAnswer } from './commands.js';
import { describeJob, summaryOf, type SlurmDescription } from './format.js';
import type { SlurmServerRecord } from './record.js';
import { startHeartbeat } from './heartbeat.js';
import type { Job, Phase } from './job.js';
import { jobFromDir, jobPaths } from './jobDir.js';
import { createJob, logFileOf, logTail, readConnection, removeJobDir, writeHeartbeat } from './jobFiles.js';
import { lossVerdict } from './loss.js';
import { isTerminalState } from './parsers.js';
import { cancelByName, submitJob } from './submit.js';
import { waitUntilReady, waitUntilRunning } from './waits.js';
import { DEFAULT_WALLTIME, signalLeadSeconds, type Handover, type WalltimeSettings } from './walltime.js';
import { WalltimeWatch } from './walltimeWatch.js';

export interface SlurmBackendOptions {
  batch: BatchSettings;
  /** Jupyter's root_dir (the notebook directory; must be visible on the compute node). */
  rootDir: string;
  /** Parent of the per-job 0700 directories, on the filesystem shared with the compute nodes. */
  stateDir: string;
  queueTimeoutMs: number;
  readyTimeoutMs: number;
  /** Seconds without jlab-mcp's heartbeat after which the job stops itself, unless a kernel is busy. */
  heartbeatTimeoutS: number;
  keepOnQueueTimeout: boolean;
  /** Timeout of each sbatch/squeue/scancel call, in ms; default 15 000. */
  commandTimeoutMs?: number;
  /** Jupyter's own idle culling in the job, in seconds (JLAB_MCP_IDLE_TIMEOUT); default none. */
  idleTimeoutS?: number;
  /** Milliseconds per REST request and websocket handshake to the job's Jupyter (JLAB_MCP_REQUEST_TIMEOUT); default 30 000. */
  requestTimeoutMs?: number;
  /** Warning threshold, policy and extension at the walltime; default DEFAULT_WALLTIME. */
  walltime?: WalltimeSettings;
}

/** How long one squeue answer serves checkLost(). */
const CHECK_CACHE_MS = 2000;

/**
 * One batch job hosts the Jupyter server every session uses. start(): submitted → pending (with
 * Slurm's reason) → running on a node → Jupyter ready, each wait with its own deadline and
 * progress in the log. The token travels in a 0600 file in a 0700 per-job directory on the
 * shared filesystem (never in argv, sbatch's command line or the job's environment). While the
 * job lives, a heartbeat file is rewritten every ≤ timeout/3; without it the job stops itself
 * unless a kernel is busy, and Jupyter's own culling ends an idle one, so a jlab-mcp that was
 * killed (or left with the keep policy) does not leave it burning its allocation, and a later
 * jlab-mcp can adopt it meanwhile (record/adopt). Every job has a unique name, so one whose id
 * sbatch never gave back is still found and cancelled. Near the walltime it warns, and moves to
 * a new job when asked to (WalltimeWatch).
 */
export class SlurmBackend implements JupyterBackend<'slurm'> {
  readonly kind = 'slurm' as const;
  private phase: Phase = 'idle';
  private job?: Job;
  private stopBeating?: () => void;
  private lastError?: string;
  private lostCache?: { at: number; reason: string | undefined };
  private lostCheck?: Promise<string | undefined>;
  private lostListener?: (reason: string) => void;
  /** Bumped by stop(): a start that finds it changed gives up (and cancels what it submitted). */
  private epoch = 0;
  private readonly commandTimeoutMs: number;
  private readonly walltimeWatch: WalltimeWatch;
  /** The walltime move's jobs: the next one while it comes up, the old one until it is retired. */
  private readonly moving = new Set<Job>();

  constructor(private readonly options: SlurmBackendOptions) {
    validateBatchSettings(options.batch);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15_000;
    const walltime = options.walltime ?? DEFAULT_WALLTIME;
    this.walltimeWatch = new WalltimeWatch(walltime, signalLeadSeconds(walltime.warningS, options.batch.time), this.commandTimeoutMs, {
      refresh: (job) => this.query(job).then(() => {}),
      successor: () => this.successor(),
    });
  }

  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    let job = this.job;
    if (job?.kept && job.id) {
      job.kept = false;
      log.info(`waiting again for SLURM job ${job.id}, kept in the queue after the last queue timeout`);
    } else {
      await this.stop();
      job = await this.newJob();
      this.job = job;
    }
    const epoch = this.epoch;
    const gaveUp = () => signal.aborted || this.epoch !== epoch;
    try {
      if (!job.id) {
        this.phase = 'submitting';
        await this.submit(job, gaveUp);
      }
      this.phase = 'pending';
      const endpoint = await this.bringUp(job, signal, gaveUp, () => (this.phase = 'running'));
      this.becomeReady(job, endpoint);
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

  private newJob(): Promise<Job> {
    const walltime = this.options.walltime ?? DEFAULT_WALLTIME;
    return createJob({ ...this.options, signalLeadS: signalLeadSeconds(walltime.warningS, this.options.batch.time) });
  }

  /** Queue, then Jupyter: the endpoint once /api/status answers (with the request timeout). */
  private async bringUp(job: Job, signal: AbortSignal, gaveUp: () => boolean, running: () => void): Promise<ServerEndpoint> {
    const ctx = {
      job,
      signal,
      gaveUp,
      queueTimeoutMs: this.options.queueTimeoutMs,
      readyTimeoutMs: this.options.readyTimeoutMs,
      keepOnQueueTimeout: this.options.keepOnQueueTimeout,
      requestTimeoutMs: this.options.requestTimeoutMs,
      query: () => this.query(job),
      ended: (what: string) => this.endedError(job, what),
      logTail: () => logTail(job, this.options.stateDir),
      capacity: () => this.capacity(),
    };
    await waitUntilRunning(ctx);
    running();
    return waitUntilReady(ctx);
  }

  /** The job's Jupyter answers: it is the backend's server now (heartbeat, walltime watch). */
  private becomeReady(job: Job, endpoint: ServerEndpoint): void {
    job.endpoint = endpoint;
    job.url = endpoint.baseUrl;
    this.job = job;
    this.phase = 'ready';
    this.lostCache = undefined;
    this.lastError = undefined;
    this.startHeartbeat(job);
    this.walltimeWatch.follow(job);
  }

  private async submit(job: Job, gaveUp: () => boolean, beat = true): Promise<void> {
    await writeHeartbeat(job);
    if (beat) this.startHeartbeat(job);
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
    const { jobId, cluster } = await step
      .finally(() => {
        job.abortSubmit = undefined;
      })
      .catch(async (error: unknown) => {
        throw error instanceof JlabError && refusedForSize(error.message) ? await this.withCapacity(error) : error;
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

  /** sbatch's refusal of a request no node has, with what was asked against what the nodes have. */
  private async withCapacity(error: JlabError): Promise<JlabError> {
    const fit = await this.capacity().catch(() => undefined);
    if (!fit) return error;
    return new JlabError(error.code, `${error.message}\n${fit}.`, {
      hint: 'Ask for what the nodes have (JLAB_MCP_SLURM_CPUS, _MEM, _GRES, or the profile) or pick another partition (JLAB_MCP_SLURM_PARTITION); the next tool call submits again.',
      context: error.context,
      cause: error,
    });
  }

  /** What the job asks for against what its partition's nodes have; sinfo's words if it failed. */
  private async capacity(): Promise<string> {
    const { batch } = this.options;
    const groups = await sinfoCapacity(batch.partition, { timeoutMs: Math.min(this.commandTimeoutMs, 5000) });
    return typeof groups === 'string' ? `sinfo could not say what the partition's nodes have (${groups})` : capacityWords(batch, groups);
  }

  private async endedError(job: Job, what: string): Promise<JlabError> {
    return new JlabError(
      'SERVER_START_FAILED',
      `SLURM job ${job.id} ${what}.\n--- the job's log ${logFileOf(job)} (last lines) ---\n${await logTail(job, this.options.stateDir)}`,
      {
        hint: 'Fix the cause shown in the job log (JLAB_MCP_SLURM_JUPYTER_CMD, _MODULES, _SETUP); the next tool call submits again.',
        context: { jobId: job.id },
      },
    );
  }

  watch(listener: (reason: string) => void): void {
    this.lostListener = listener;
  }

  async checkLost(): Promise<string | undefined> {
    // Many sessions may ask at once (each dropped websocket does): one squeue answers them all.
    this.lostCheck ??= this.checkLostNow().finally(() => {
      this.lostCheck = undefined;
    });
    return this.lostCheck;
  }

  private async checkLostNow(answered?: SqueueAnswer): Promise<string | undefined> {
    const job = this.job;
    if (this.phase === 'lost') return this.lostCache?.reason;
    if (this.phase !== 'ready' || !job?.id) return undefined;
    if (!answered && this.lostCache && Date.now() - this.lostCache.at < CHECK_CACHE_MS) return this.lostCache.reason;
    const answer = answered ?? (await squeueJob(job.id, { timeoutMs: Math.min(this.commandTimeoutMs, 5000) }));
    job.checkedAt = Date.now();
    if (answer.kind === 'row') job.row = answer.row;
    const verdict = lossVerdict(job.id, answer);
    let reason: string | undefined;
    if (verdict.kind === 'lost') reason = `${verdict.what}\n--- the job's log (last lines) ---\n${await logTail(job, this.options.stateDir)}`;
    else if (verdict.kind === 'unknown') log.warn(`SLURM: squeue failed while checking job ${job.id}: ${verdict.words}`);
    if (this.job !== job) return undefined; // moved to another job meanwhile
    this.lostCache = { at: Date.now(), reason };
    if (reason) {
      this.phase = 'lost';
      this.stopHeartbeat();
      this.walltimeWatch.stop();
    }
    return reason;
  }

  /**
   * Takes over the job an earlier jlab-mcp left running: Slurm says RUNNING, its connection file
   * and token are there, and its Jupyter answers. Then heartbeats and walltime watching resume.
   * A job that ended has its directory removed; one that runs but cannot be used (no Jupyter) is
   * cancelled, since nobody else will ever adopt it. Undefined in every such case; a failing
   * squeue leaves everything as it is.
   */
  async adopt(record: SlurmServerRecord, signal: AbortSignal): Promise<ServerEndpoint | undefined> {
    if (this.phase !== 'idle' && this.phase !== 'failed') return undefined;
    const job = await jobFromDir(record.jobDir, record.jobId, record.tokenFile);
    if (!job) {
      log.warn(`SLURM: job ${record.jobId} from the registry has no token in ${record.jobDir}; not adopted`);
      return undefined;
    }
    const answer = await this.query(job);
    const verdict = lossVerdict(record.jobId, answer);
    if (verdict.kind === 'unknown') {
      log.warn(`SLURM: cannot tell whether job ${record.jobId} still runs (${verdict.words}); not adopted`);
      return undefined;
    }
    if (verdict.kind === 'lost') {
      log.info(`SLURM: ${verdict.what} Its directory ${job.dir} is removed.`);
      await removeJobDir(job);
      return undefined;
    }
    const unusable = async (why: string) => {
      log.warn(`SLURM: job ${record.jobId} ${why}; it is cancelled (nobody else can adopt it)`);
      await this.cancel(job);
      await removeJobDir(job);
      return undefined;
    };
    if (answer.kind !== 'row' || answer.row.state !== 'RUNNING') return unusable(`is ${answer.kind === 'row' ? answer.row.state : 'unknown'}, not RUNNING`);
    const found = await readConnection(job);
    if (!found) return unusable('has no connection file (its Jupyter is not running)');
    const endpoint: ServerEndpoint = { ...found, requestTimeoutMs: this.options.requestTimeoutMs };
    if (signal.aborted) return undefined;
    if (!(await new JupyterRestClient(endpoint).isUp(5000))) return unusable(`runs, but its Jupyter at ${displayUrl(endpoint.baseUrl)} does not answer`);
    this.epoch++;
    await writeHeartbeat(job);
    this.becomeReady(job, endpoint);
    log.info(
      `SLURM: adopted job ${job.id} on ${job.row?.nodes || '?'} (Jupyter at ${displayUrl(endpoint.baseUrl)}, time left ${job.row?.timeLeft || '?'}) left by an earlier jlab-mcp`,
    );
    return endpoint;
  }

  /** How a later jlab-mcp finds this job: id, directory, URL, the token's file (not the token). */
  record(): RecordBody<SlurmServerRecord> | undefined {
    const job = this.job;
    if (this.phase !== 'ready' || !job?.id || !job.url) return undefined;
    return {
      backend: 'slurm',
      baseUrl: job.url,
      tokenFile: jobPaths(job.dir).tokenFile,
      jobId: job.id,
      jobDir: job.dir,
      certFingerprint: job.endpoint?.certFingerprint,
      startedAt: new Date(job.submittedAt ?? Date.now()).toISOString(),
    };
  }

  /**
   * Exit with the keep policy: the job goes on (no scancel, its directory stays) and ends by
   * itself — Jupyter's idle culling, the heartbeat timeout unless a kernel is busy, or the
   * walltime. A job that is not up yet (queued, starting) cannot be adopted later: it is cancelled.
   */
  async detach(): Promise<void> {
    const job = this.job;
    if (this.phase !== 'ready' || !job?.id) return this.stop();
    this.epoch++;
    this.stopHeartbeat();
    this.walltimeWatch.detach();
    this.job = undefined;
    this.phase = 'idle';
    await this.discardMoving();
    log.info(
      `SLURM: job ${job.id} left running for a later jlab-mcp; without one it ends after ${this.options.idleTimeoutS ?? this.options.heartbeatTimeoutS} s idle (a busy kernel runs on)`,
    );
  }

  async stop(): Promise<void> {
    this.epoch++;
    this.stopHeartbeat();
    this.walltimeWatch.stop();
    const job = this.job;
    this.job = undefined;
    this.lostCache = undefined;
    if (this.phase !== 'failed') this.phase = 'idle';
    await this.discardMoving();
    if (!job) return;
    await this.discard(job);
  }

  /** A walltime move cut short by exit: neither its next job nor the old one is anyone's to adopt. */
  private async discardMoving(): Promise<void> {
    const jobs = [...this.moving];
    this.moving.clear();
    await Promise.all(jobs.map((job) => this.discard(job)));
  }

  /** Cancels a job (or one whose id sbatch never gave back) and removes its directory. */
  private async discard(job: Job): Promise<void> {
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

  /**
   * The move to a new job ahead of the walltime: the next job is brought up beside the current
   * one (its own heartbeat meanwhile); commit makes it the backend's job; the old one keeps its
   * heartbeat until it is retired (cancelled) once the sessions have moved off it.
   */
  private successor(): Handover {
    const current = this.job;
    let next: Job | undefined;
    let stopNextBeat: (() => void) | undefined;
    let stopOldBeat: (() => void) | undefined;
    const epoch = this.epoch;
    return {
      start: async (signal) => {
        next = await this.newJob();
        const job = next;
        this.moving.add(job);
        const gaveUp = () => signal.aborted || this.epoch !== epoch;
        await this.submit(job, gaveUp, false);
        stopNextBeat = startHeartbeat(job, this.options.heartbeatTimeoutS, () => {});
        const endpoint = await this.bringUp(job, signal, gaveUp, () => {});
        job.endpoint = endpoint;
        return endpoint;
      },
      commit: () => {
        if (!next?.endpoint) throw new JlabError('INTERNAL', 'The next SLURM job is not up.');
        if (this.epoch !== epoch || this.job !== current) throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
        stopNextBeat?.();
        this.stopHeartbeat();
        this.moving.delete(next);
        if (current) {
          this.moving.add(current);
          stopOldBeat = startHeartbeat(current, this.options.heartbeatTimeoutS, () => {});
        }
        this.becomeReady(next, next.endpoint!);
        log.info(`SLURM: job ${next.id} took over from job ${current?.id} ahead of its walltime`);
        return next.id!;
      },
      retire: async () => {
        stopOldBeat?.();
        if (current && this.moving.delete(current)) await this.discard(current);
      },
      abandon: async () => {
        stopNextBeat?.();
        if (next && this.job !== next && this.moving.delete(next)) await this.discard(next);
      },
    };
  }

  private startHeartbeat(job: Job): void {
    this.stopHeartbeat();
    this.stopBeating = startHeartbeat(job, this.options.heartbeatTimeoutS, () => {
      // Keeps state and time left fresh for the status resource and the walltime watch, and
      // notices a job that ended (walltime, scancel) without waiting for a tool call.
      if (this.phase !== 'ready' || this.job !== job || !job.id) return;
      void this.query(job)
        .then(async (answer) => {
          if (this.job !== job || this.phase !== 'ready') return;
          const reason = await this.checkLostNow(answer);
          if (reason) this.lostListener?.(reason);
        })
        .catch(() => {});
    });
  }

  private stopHeartbeat(): void {
    this.stopBeating?.();
    this.stopBeating = undefined;
  }

  /** Time left and where the end stands (undefined without a ready job); told at the warning, near the end, and of an extension's outcome. */
  readonly walltime: WalltimeCapability = {
    status: () => (this.phase === 'ready' ? this.walltimeWatch.status() : undefined),
    listen: (listener) => this.walltimeWatch.listen(listener),
  };

  /** One line for people: where the start is, e.g. "job 12 pending (Resources) for 40 s". */
  summary(): string {
    return summaryOf(this.phase, this.job);
  }

  describe(): SlurmDescription {
    const { stateDir, batch, heartbeatTimeoutS } = this.options;
    return {
      ...describeJob({ phase: this.phase, job: this.job, stateDir, batch, heartbeatTimeoutS, lastError: this.lastError }),
      walltime: this.walltime.status(),
    };
  }
}
