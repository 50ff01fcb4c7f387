/**
 * The two waits of a start: submitted → running (within the queue timeout) and running →
 * Jupyter answering (within the ready timeout). Each polls with backoffDelay and ends at its
 * deadline, when the job ends, or when the start is given up.
 */
import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { JupyterRestClient } from '../../jupyter/restClient.js';
import { backoffDelay, type BackoffOptions } from '../../util/backoff.js';
import { sleep } from '../../util/deadline.js';
import { JlabError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import type { SqueueAnswer } from './commands.js';
import type { Job } from './job.js';
import { readConnection } from './jobFiles.js';
import { isTerminalState } from './parsers.js';
import { hasEnded, neverStartsReason } from './reasons.js';

/** squeue while the job is queued: 200 ms, ×1.5, at most every 2 s. */
export const QUEUE_POLL: BackoffOptions = { initialMs: 200, maxMs: 2000 };
/** The connection file and /api/status once the job runs: 100 ms, ×1.5, at most every 1 s. */
export const READY_POLL: BackoffOptions = { initialMs: 100, maxMs: 1000 };
/** How often the job's state is checked while waiting for Jupyter. */
const READY_JOB_CHECK_MS = 2000;
const PROGRESS_EVERY_MS = 30_000;

export interface WaitContext {
  job: Job;
  signal: AbortSignal;
  /** True once the start was abandoned (stop(), shutdown, the request's abort). */
  gaveUp: () => boolean;
  queueTimeoutMs: number;
  readyTimeoutMs: number;
  keepOnQueueTimeout: boolean;
  /** Milliseconds per REST request to the job's Jupyter; goes into the endpoint. */
  requestTimeoutMs?: number;
  /** squeue for the job (records its row on the job). */
  query: () => Promise<SqueueAnswer>;
  /** The error for a job that ended early: `what` plus the job's log. */
  ended: (what: string) => Promise<JlabError>;
  logTail: () => Promise<string>;
  /** What was asked against what the partition's nodes have (sinfo), for a request that cannot fit. */
  capacity?: () => Promise<string | undefined>;
}

/** Pending reasons that mean the request does not fit the partition's nodes. */
const DOES_NOT_FIT = new Set(['PartitionConfig', 'BadConstraints']);

function shuttingDown(): JlabError {
  return new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
}

/** Sleeps the attempt's backoff delay, but not past the deadline. */
async function pause(attempt: number, poll: BackoffOptions, deadline: number, signal: AbortSignal): Promise<void> {
  await sleep(Math.min(backoffDelay(attempt, poll), Math.max(0, deadline - Date.now())), signal);
}

/** submitted → pending(reason) → running, within the queue timeout. */
export async function waitUntilRunning(ctx: WaitContext): Promise<void> {
  const { job } = ctx;
  const id = job.id!;
  const started = Date.now();
  const deadline = started + ctx.queueTimeoutMs;
  let lastReason: string | undefined;
  let reasonKey: string | undefined;
  let reasonSince = started;
  let lastProgress = started;
  let errorsLogged = 0;
  for (let attempt = 0; ; attempt++) {
    if (ctx.gaveUp()) throw shuttingDown();
    const answer = await ctx.query();
    if (answer.kind === 'row') {
      const { state, reason, nodes } = answer.row;
      if (state === 'RUNNING') {
        log.info(`SLURM: job ${id} is running on ${nodes || 'a node'} (after ${((Date.now() - started) / 1000).toFixed(1)} s in the queue); starting Jupyter`);
        return;
      }
      if (hasEnded(state, isTerminalState)) throw await ctx.ended(`ended (${state}${reason ? `, ${reason}` : ''}) before Jupyter started`);
      if (reason !== reasonKey) {
        reasonKey = reason;
        reasonSince = Date.now();
      }
      const never = neverStartsReason(reason, Date.now() - reasonSince);
      if (never) {
        const fit = DOES_NOT_FIT.has(reason) ? await ctx.capacity?.().catch(() => undefined) : undefined;
        throw new JlabError(
          'SERVER_START_FAILED',
          `SLURM job ${id} can never start: Slurm says ${state} (${reason}): ${never}${fit ? `; ${fit}` : ''}. It was cancelled.`,
          {
            hint: fit
              ? 'Ask for what the nodes have (JLAB_MCP_SLURM_CPUS, _MEM, _GRES, or the profile) or pick another partition (JLAB_MCP_SLURM_PARTITION); the next tool call submits again.'
              : 'Fix the SLURM settings in the MCP server configuration (see sinfo / scontrol show partition); the next tool call submits again.',
            context: { jobId: id, reason },
          },
        );
      }
      if (reason !== lastReason || Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        log.info(
          `SLURM: job ${id} ${state.toLowerCase()}${reason && reason !== 'None' ? ` (${reason})` : ''}, ${Math.round((Date.now() - started) / 1000)} s of ${Math.round(ctx.queueTimeoutMs / 1000)} s queue timeout`,
        );
        lastReason = reason;
        lastProgress = Date.now();
      }
    } else if (answer.kind === 'gone') {
      throw await ctx.ended(`disappeared from squeue before it ran (${answer.words})`);
    } else if (errorsLogged++ < 3) {
      log.warn(`SLURM: squeue failed while waiting for job ${id}: ${answer.words}`);
    }
    if (Date.now() >= deadline) throw queueTimeoutError(ctx);
    await pause(attempt, QUEUE_POLL, deadline, ctx.signal);
  }
}

/** The job is still queued at the queue timeout: kept (per setting) or to be cancelled. */
function queueTimeoutError(ctx: WaitContext): JlabError {
  const { job } = ctx;
  const id = job.id!;
  const seconds = Math.round(ctx.queueTimeoutMs / 1000);
  const why = job.row ? `${job.row.state}${job.row.reason ? ` (${job.row.reason})` : ''}` : 'unknown state';
  if (ctx.keepOnQueueTimeout) {
    job.kept = true;
    return new JlabError(
      'SERVER_START_FAILED',
      `SLURM job ${id} is still queued after ${seconds} s: ${why}. It was kept (JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT); the next tool call waits for it again.`,
      {
        hint: 'Call the tool again later, or pick a less busy partition.',
        context: { jobId: id },
      },
    );
  }
  return new JlabError('SERVER_START_FAILED', `SLURM job ${id} was still queued after ${seconds} s: ${why}. It was cancelled.`, {
    hint: 'Raise JLAB_MCP_QUEUE_TIMEOUT, pick a less busy partition, or set JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT=true; the next tool call submits again.',
    context: { jobId: id },
  });
}

/** running → connection file → /api/status answers, within the ready timeout. */
export async function waitUntilReady(ctx: WaitContext): Promise<ServerEndpoint> {
  const { job } = ctx;
  const id = job.id!;
  const deadline = Date.now() + ctx.readyTimeoutMs;
  let endpoint: ServerEndpoint | undefined;
  let rest: JupyterRestClient | undefined;
  let lastJobCheck = Date.now();
  for (let attempt = 0; ; attempt++) {
    if (ctx.gaveUp()) throw shuttingDown();
    if (!endpoint) {
      const found = await readConnection(job);
      endpoint = found && { ...found, requestTimeoutMs: ctx.requestTimeoutMs };
      if (endpoint) {
        rest = new JupyterRestClient(endpoint);
        job.url = endpoint.baseUrl;
        log.info(`SLURM: job ${id} started Jupyter at ${endpoint.baseUrl}; waiting for it to answer`);
      }
    }
    const probe = rest ? await rest.probeStatus(2000) : undefined;
    if (probe?.up) {
      log.info(`SLURM: Jupyter ready at ${endpoint!.baseUrl} (job ${id} on ${job.row?.nodes ?? '?'}, time left ${job.row?.timeLeft ?? '?'})`);
      return endpoint!;
    }
    if (probe?.why === 'certificate') {
      // Waiting cannot help: what answers is not the server the job's connection file describes.
      throw new JlabError('SERVER_START_FAILED', `Jupyter in SLURM job ${id} ${probe.words}. The job was cancelled; no token was sent.`, {
        hint: 'Something between this machine and the compute node answered with another certificate (possible interception). Tell your cluster admins; the next tool call submits a new job.',
        context: { jobId: id },
      });
    }
    if (Date.now() - lastJobCheck >= READY_JOB_CHECK_MS) {
      lastJobCheck = Date.now();
      const answer = await ctx.query();
      if (answer.kind === 'gone') throw await ctx.ended(`ended before Jupyter answered (${answer.words})`);
      if (answer.kind === 'row' && hasEnded(answer.row.state, isTerminalState)) {
        throw await ctx.ended(`ended (${answer.row.state}${answer.row.reason ? `, ${answer.row.reason}` : ''}) before Jupyter answered`);
      }
    }
    if (Date.now() >= deadline) {
      throw new JlabError(
        'SERVER_START_FAILED',
        `Jupyter in SLURM job ${id} did not answer within ${Math.round(ctx.readyTimeoutMs / 1000)} s of the job running${endpoint ? ` (at ${endpoint.baseUrl})` : ' (no connection file yet)'}. The job was cancelled.\n--- the job's log (last lines) ---\n${await ctx.logTail()}`,
        {
          hint: 'Check JLAB_MCP_SLURM_JUPYTER_CMD / _MODULES / _SETUP and that this machine can reach the compute node; raise JLAB_MCP_READY_TIMEOUT if the node is slow. The next tool call submits again.',
          context: { jobId: id },
        },
      );
    }
    await pause(attempt, READY_POLL, deadline, ctx.signal);
  }
}
