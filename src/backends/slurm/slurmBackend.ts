import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { JupyterRestClient } from '../../jupyter/restClient.js';
import { sleep } from '../../util/deadline.js';
import { JlabError, messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { redactSecrets, registerSecret } from '../../util/secrets.js';
import { writeServerConfig } from '../serverConfig.js';
import type { JupyterBackend } from '../types.js';
import { renderBatchScript, validateBatchSettings, type BatchSettings } from './batchScript.js';
import { sbatch, scancel, squeueJob, type SqueueAnswer } from './commands.js';
import { isTerminalState, type SqueueRow } from './parsers.js';
import { hasEnded, neverStartsReason } from './reasons.js';

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
  /** Timeout of each sbatch/squeue/scancel call. */
  commandTimeoutMs?: number;
}

type Phase = 'idle' | 'submitting' | 'pending' | 'running' | 'ready' | 'failed' | 'lost' | 'stopped';

interface Job {
  dir: string;
  scriptFile: string;
  logPattern: string;
  connectionFile: string;
  heartbeatFile: string;
  token: string;
  sbatchArgs: string[];
  id?: string;
  submittedAt?: number;
  row?: SqueueRow;
  checkedAt?: number;
  url?: string;
  /** Kept in the queue after a queue timeout: the next start waits for it again. */
  kept?: boolean;
  cancelled?: boolean;
}

const CHECK_CACHE_MS = 2000;
const PROGRESS_EVERY_MS = 30_000;
const LOG_TAIL_LINES = 15;

/**
 * One batch job hosts the Jupyter server every session uses. start(): submitted → pending (with
 * Slurm's reason) → running on a node → Jupyter ready, each wait with its own deadline and
 * progress in the log. The token travels in a 0600 file in a 0700 per-job directory on the
 * shared filesystem (never in argv, sbatch's command line or the job's environment). While the
 * job lives, a heartbeat file is rewritten every ≤ timeout/3; the job stops itself when it goes
 * stale, so a SIGKILLed jlab-mcp does not leave it burning its allocation.
 */
export class SlurmBackend implements JupyterBackend {
  readonly kind = 'slurm' as const;
  private phase: Phase = 'idle';
  private job?: Job;
  private heartbeat?: NodeJS.Timeout;
  private lastError?: string;
  private lostCache?: { at: number; reason: string | undefined };
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
      job = await this.prepare();
    }
    const epoch = this.epoch;
    const gaveUp = () => signal.aborted || this.epoch !== epoch;
    try {
      if (!job.id) await this.submit(job, gaveUp);
      await this.waitUntilRunning(job, signal, gaveUp);
      const endpoint = await this.waitUntilReady(job, signal, gaveUp);
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

  /** The per-job directory: token, Jupyter config, heartbeat, script. */
  private async prepare(): Promise<Job> {
    const parent = this.options.stateDir;
    await mkdir(parent, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(path.join(parent, 'job-'));
    const token = randomBytes(24).toString('hex');
    registerSecret(token);
    const { configFile, tokenFile } = await writeServerConfig(dir, token);
    const job: Job = {
      dir,
      scriptFile: path.join(dir, 'jupyter-job.sh'),
      logPattern: path.join(dir, 'slurm-%j.out'),
      connectionFile: path.join(dir, 'connection.json'),
      heartbeatFile: path.join(dir, 'heartbeat'),
      token,
      sbatchArgs: [],
    };
    const { script, sbatchArgs } = renderBatchScript(
      this.options.batch,
      {
        jobDir: dir,
        configFile,
        tokenFile,
        connectionFile: job.connectionFile,
        heartbeatFile: job.heartbeatFile,
        logFile: job.logPattern,
        rootDir: this.options.rootDir,
      },
      { heartbeatTimeoutS: this.options.heartbeatTimeoutS },
    );
    await writeFile(job.scriptFile, script, { mode: 0o700 });
    job.sbatchArgs = sbatchArgs;
    this.job = job;
    return job;
  }

  private async submit(job: Job, gaveUp: () => boolean): Promise<void> {
    this.phase = 'submitting';
    await this.beat(job);
    this.startHeartbeat(job);
    const args = job.sbatchArgs;
    log.info(`SLURM: submitting the Jupyter job (sbatch ${args.join(' ')} ${job.scriptFile})`);
    const { jobId, cluster } = await sbatch(args, job.scriptFile, { timeoutMs: this.commandTimeoutMs, cwd: job.dir });
    job.id = jobId;
    job.submittedAt = Date.now();
    log.info(`SLURM: submitted job ${jobId}${cluster ? ` on cluster ${cluster}` : ''}; log ${this.logFile(job)}`);
    if (gaveUp()) {
      await this.cancel(job);
      throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
    }
  }

  /** submitted → pending(reason) → running, within the queue timeout. */
  private async waitUntilRunning(job: Job, signal: AbortSignal, gaveUp: () => boolean): Promise<void> {
    const id = job.id!;
    this.phase = 'pending';
    const started = Date.now();
    const deadline = started + this.options.queueTimeoutMs;
    let lastReason: string | undefined;
    let reasonKey: string | undefined;
    let reasonSince = started;
    let lastProgress = started;
    let errorsLogged = 0;
    for (let interval = 200; ; interval = Math.min(interval * 1.5, 2000)) {
      if (gaveUp()) throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
      const answer = await this.query(job);
      if (answer.kind === 'row') {
        const { state, reason, nodes } = answer.row;
        if (state === 'RUNNING') {
          this.phase = 'running';
          log.info(`SLURM: job ${id} is running on ${nodes || 'a node'} (after ${((Date.now() - started) / 1000).toFixed(1)} s in the queue); starting Jupyter`);
          return;
        }
        if (hasEnded(state, isTerminalState)) throw await this.endedError(job, `ended (${state}${reason ? `, ${reason}` : ''}) before Jupyter started`);
        if (reason !== reasonKey) {
          reasonKey = reason;
          reasonSince = Date.now();
        }
        const never = neverStartsReason(reason, Date.now() - reasonSince);
        if (never) {
          throw new JlabError('SERVER_START_FAILED', `SLURM job ${id} can never start: Slurm says ${state} (${reason}): ${never}. It was cancelled.`, {
            hint: 'Fix the SLURM settings in the MCP server configuration (see sinfo / scontrol show partition); the next tool call submits again.',
            context: { jobId: id, reason },
          });
        }
        if (reason !== lastReason || Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
          log.info(`SLURM: job ${id} ${state.toLowerCase()}${reason && reason !== 'None' ? ` (${reason})` : ''}, ${Math.round((Date.now() - started) / 1000)} s of ${Math.round(this.options.queueTimeoutMs / 1000)} s queue timeout`);
          lastReason = reason;
          lastProgress = Date.now();
        }
      } else if (answer.kind === 'gone') {
        throw await this.endedError(job, `disappeared from squeue before it ran (${answer.words})`);
      } else if (errorsLogged++ < 3) {
        log.warn(`SLURM: squeue failed while waiting for job ${id}: ${answer.words}`);
      }
      if (Date.now() >= deadline) {
        const why = job.row ? `${job.row.state}${job.row.reason ? ` (${job.row.reason})` : ''}` : 'unknown state';
        if (this.options.keepOnQueueTimeout) {
          job.kept = true;
          throw new JlabError('SERVER_START_FAILED', `SLURM job ${id} is still queued after ${Math.round(this.options.queueTimeoutMs / 1000)} s: ${why}. It was kept (JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT); the next tool call waits for it again.`, {
            hint: 'Call the tool again later, or pick a less busy partition.',
            context: { jobId: id },
          });
        }
        throw new JlabError('SERVER_START_FAILED', `SLURM job ${id} was still queued after ${Math.round(this.options.queueTimeoutMs / 1000)} s: ${why}. It was cancelled.`, {
          hint: 'Raise JLAB_MCP_QUEUE_TIMEOUT, pick a less busy partition, or set JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT=true; the next tool call submits again.',
          context: { jobId: id },
        });
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), signal);
    }
  }

  /** running → connection file → /api/status answers, within the ready timeout. */
  private async waitUntilReady(job: Job, signal: AbortSignal, gaveUp: () => boolean): Promise<ServerEndpoint> {
    const id = job.id!;
    const deadline = Date.now() + this.options.readyTimeoutMs;
    let endpoint: ServerEndpoint | undefined;
    let rest: JupyterRestClient | undefined;
    let lastJobCheck = Date.now();
    for (let interval = 100; ; interval = Math.min(interval * 1.5, 1000)) {
      if (gaveUp()) throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
      if (!endpoint) {
        endpoint = await this.readConnection(job);
        if (endpoint) {
          rest = new JupyterRestClient(endpoint);
          job.url = endpoint.baseUrl;
          log.info(`SLURM: job ${id} started Jupyter at ${endpoint.baseUrl}; waiting for it to answer`);
        }
      }
      if (rest && (await rest.isUp(2000))) {
        log.info(`SLURM: Jupyter ready at ${endpoint!.baseUrl} (job ${id} on ${job.row?.nodes ?? '?'}, time left ${job.row?.timeLeft ?? '?'})`);
        return endpoint!;
      }
      if (Date.now() - lastJobCheck >= 2000) {
        lastJobCheck = Date.now();
        const answer = await this.query(job);
        if (answer.kind === 'gone') throw await this.endedError(job, `ended before Jupyter answered (${answer.words})`);
        if (answer.kind === 'row' && hasEnded(answer.row.state, isTerminalState)) {
          throw await this.endedError(job, `ended (${answer.row.state}${answer.row.reason ? `, ${answer.row.reason}` : ''}) before Jupyter answered`);
        }
      }
      if (Date.now() >= deadline) {
        throw new JlabError(
          'SERVER_START_FAILED',
          `Jupyter in SLURM job ${id} did not answer within ${Math.round(this.options.readyTimeoutMs / 1000)} s of the job running${endpoint ? ` (at ${endpoint.baseUrl})` : ' (no connection file yet)'}. The job was cancelled.\n--- the job's log (last lines) ---\n${await this.logTail(job)}`,
          {
            hint: 'Check JLAB_MCP_SLURM_JUPYTER_CMD / _MODULES / _SETUP and that this machine can reach the compute node; raise JLAB_MCP_READY_TIMEOUT if the node is slow. The next tool call submits again.',
            context: { jobId: id },
          },
        );
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), signal);
    }
  }

  private async readConnection(job: Job): Promise<ServerEndpoint | undefined> {
    let text: string;
    try {
      text = await readFile(job.connectionFile, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const info = JSON.parse(text) as { host?: unknown; port?: unknown };
      const host = String(info.host ?? '');
      const port = Number(info.port);
      if (!/^[A-Za-z0-9.-]+$/.test(host) || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
      return { baseUrl: `http://${host}:${port}/`, token: job.token };
    } catch {
      return undefined;
    }
  }

  private async query(job: Job): Promise<SqueueAnswer> {
    const answer = await squeueJob(job.id!, { timeoutMs: this.commandTimeoutMs });
    if (answer.kind === 'row') job.row = answer.row;
    job.checkedAt = Date.now();
    return answer;
  }

  private async endedError(job: Job, what: string): Promise<JlabError> {
    return new JlabError('SERVER_START_FAILED', `SLURM job ${job.id} ${what}.\n--- the job's log ${this.logFile(job)} (last lines) ---\n${await this.logTail(job)}`, {
      hint: 'Fix the cause shown in the job log (JLAB_MCP_SLURM_JUPYTER_CMD, _MODULES, _SETUP); the next tool call submits again.',
      context: { jobId: job.id },
    });
  }

  private logFile(job: Job): string {
    return job.id ? job.logPattern.replace('%j', job.id) : job.logPattern;
  }

  private async logTail(job: Job): Promise<string> {
    try {
      const text = await readFile(this.logFile(job), 'utf8');
      const tail = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
      return redactSecrets(tail || '(the log is empty)');
    } catch {
      return `(no log at ${this.logFile(job)} yet: if the job never started, check that ${this.options.stateDir} is on a filesystem the compute nodes share, or set JLAB_MCP_SLURM_STATE_DIR)`;
    }
  }

  private lostCheck?: Promise<string | undefined>;

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
    let reason: string | undefined;
    if (answer.kind === 'row') {
      job.row = answer.row;
      const { state, reason: why } = answer.row;
      if (hasEnded(state, isTerminalState)) {
        reason = `the SLURM job ${job.id} hosting Jupyter ended: Slurm says ${state}${why && why !== 'None' ? ` (${why})` : ''}.\n--- the job's log (last lines) ---\n${await this.logTail(job)}`;
      }
    } else if (answer.kind === 'gone') {
      reason = `the SLURM job ${job.id} hosting Jupyter is gone (${answer.words}).\n--- the job's log (last lines) ---\n${await this.logTail(job)}`;
    } else {
      log.warn(`SLURM: squeue failed while checking job ${job.id}: ${answer.words}`);
    }
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
    if (job.id) await this.cancel(job);
    await rm(job.dir, { recursive: true, force: true }).catch(() => {});
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
    const everyMs = Math.max(1000, Math.min(30_000, Math.floor((this.options.heartbeatTimeoutS * 1000) / 3)));
    this.heartbeat = setInterval(() => {
      void this.beat(job);
      // Keeps state and time left fresh for the status resource between tool calls.
      if (this.phase === 'ready' && job.id) void this.query(job).catch(() => {});
    }, everyMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /**
   * Rewrites the heartbeat file. A write (not utimes) so the file server stamps the mtime with
   * its own clock: the job compares it with the node's clock, not ours.
   */
  private async beat(job: Job): Promise<void> {
    try {
      await writeFile(job.heartbeatFile, `${new Date().toISOString()}\n`, { mode: 0o600 });
    } catch (error) {
      log.warn(`SLURM: could not write the heartbeat file ${job.heartbeatFile}: ${messageOf(error)}`);
    }
  }

  /** One line for people: where the start is, e.g. "job 12 pending (Resources) for 40 s". */
  summary(): string {
    const job = this.job;
    const row = job?.row;
    const since = job?.submittedAt ? ` for ${Math.round((Date.now() - job.submittedAt) / 1000)} s` : '';
    switch (this.phase) {
      case 'idle':
        return 'no SLURM job yet';
      case 'submitting':
        return 'submitting the SLURM job';
      case 'pending':
        return `SLURM job ${job?.id} ${row?.state?.toLowerCase() ?? 'queued'}${row?.reason && row.reason !== 'None' ? ` (${row.reason})` : ''}${since}${job?.kept ? '; kept after the queue timeout' : ''}`;
      case 'running':
        return `SLURM job ${job?.id} running on ${row?.nodes || '?'}; waiting for Jupyter`;
      case 'ready':
        return `SLURM job ${job?.id} running on ${row?.nodes || '?'}, Jupyter ready, time left ${row?.timeLeft || '?'}`;
      case 'failed':
        return `the last SLURM start failed${job?.id ? ` (job ${job.id})` : ''}`;
      case 'lost':
        return `SLURM job ${job?.id} ended; the next call submits a new one`;
      case 'stopped':
        return 'stopped';
    }
  }

  describe(): Record<string, unknown> {
    const job = this.job;
    const row = job?.row;
    return {
      kind: this.kind,
      summary: this.summary(),
      phase: this.phase,
      jobId: job?.id,
      state: row?.state,
      reason: row?.reason || undefined,
      node: row?.nodes || undefined,
      timeLeft: row?.timeLeft || undefined,
      timeLimit: row?.timeLimit || undefined,
      checkedAt: job?.checkedAt ? new Date(job.checkedAt).toISOString() : undefined,
      url: job?.url,
      logs: job ? { stdout: this.logFile(job), stderr: this.logFile(job) } : undefined,
      stateDir: job?.dir ?? this.options.stateDir,
      partition: this.options.batch.partition ?? '(cluster default)',
      gres: this.options.batch.gres || undefined,
      heartbeatTimeoutS: this.options.heartbeatTimeoutS,
      lastError: this.lastError,
    };
  }
}
