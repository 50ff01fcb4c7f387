/**
 * The per-job directory on the filesystem the compute nodes share: the 0600 token and Jupyter
 * config, the batch script, the heartbeat file jlab-mcp rewrites, the connection file and the
 * log the job writes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { normalizeFingerprint } from '../../jupyter/pinnedTls.js';
import { messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { redactSecrets, registerSecret } from '../../util/secrets.js';
import { writeServerConfig } from '../serverConfig.js';
import { renderBatchScript, type BatchSettings } from './batchScript.js';
import type { Job } from './job.js';

const LOG_TAIL_LINES = 15;

export interface JobDirOptions {
  batch: BatchSettings;
  /** Parent of the per-job 0700 directories. */
  stateDir: string;
  /** Jupyter's root_dir. */
  rootDir: string;
  heartbeatTimeoutS: number;
  /** Jupyter's own idle culling in the job (cullingArgs), in seconds. */
  idleTimeoutS?: number;
  /** Seconds before the walltime at which Slurm sends USR1 (signalLeadSeconds). */
  signalLeadS?: number;
}

/** A new 0700 job directory with token, Jupyter config and script; the job gets a fresh unique name. */
export async function createJob(options: JobDirOptions): Promise<Job> {
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(options.stateDir, 'job-'));
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
    name: '',
    sweptIds: new Set(),
  };
  const { script, sbatchArgs, jobName } = renderBatchScript(
    options.batch,
    {
      jobDir: dir,
      configFile,
      tokenFile,
      connectionFile: job.connectionFile,
      heartbeatFile: job.heartbeatFile,
      logFile: job.logPattern,
      rootDir: options.rootDir,
    },
    { heartbeatTimeoutS: options.heartbeatTimeoutS, idleTimeoutS: options.idleTimeoutS, signalLeadS: options.signalLeadS },
    randomBytes(8).toString('hex'),
  );
  await writeFile(job.scriptFile, script, { mode: 0o700 });
  job.sbatchArgs = sbatchArgs;
  job.name = jobName;
  return job;
}

/** Removes the job directory (never throws): a job that starts later cannot cd there and exits. */
export async function removeJobDir(job: Job): Promise<void> {
  await rm(job.dir, { recursive: true, force: true }).catch(() => {});
}

/** The job's log file (the pattern until the id is known). */
export function logFileOf(job: Job): string {
  return job.id ? job.logPattern.replace('%j', job.id) : job.logPattern;
}

/** The last lines of the job's log, secrets redacted; or why there is none. */
export async function logTail(job: Job, stateDir: string): Promise<string> {
  try {
    const text = await readFile(logFileOf(job), 'utf8');
    const tail = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    return redactSecrets(tail || '(the log is empty)');
  } catch {
    return `(no log at ${logFileOf(job)} yet: if the job never started, check that ${stateDir} is on a filesystem the compute nodes share, or set JLAB_MCP_SLURM_STATE_DIR)`;
  }
}

/** The endpoint from the job's connection file, once written and sane; else undefined. */
export async function readConnection(job: Job): Promise<ServerEndpoint | undefined> {
  let text: string;
  try {
    text = await readFile(job.connectionFile, 'utf8');
  } catch {
    return undefined;
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    return undefined;
  }
  const connection = parseConnection(info);
  if (!connection) return undefined;
  if (connection.tls === 'no-openssl' || connection.tls === 'openssl-failed') {
    log.warn(
      `SLURM job ${job.id ?? '?'}: ${connection.tls === 'no-openssl' ? 'no openssl on' : 'openssl failed on'} ${connection.host}, so its Jupyter serves plain HTTP: ` +
        'the token crosses the cluster network in clear. Make openssl available in the job (JLAB_MCP_SLURM_MODULES/_SETUP), or set JLAB_MCP_SLURM_TLS=false to accept plain HTTP.',
    );
  }
  return connection.certFingerprint
    ? { baseUrl: `https://${connection.host}:${connection.port}/`, token: job.token, certFingerprint: connection.certFingerprint }
    : { baseUrl: `http://${connection.host}:${connection.port}/`, token: job.token };
}

/** What the job's connection file says, checked; undefined when it is not sane. */
export interface JobConnection {
  host: string;
  port: number;
  /** Canonical SHA-256 fingerprint of the job's certificate when it serves HTTPS. */
  certFingerprint?: string;
  /** The job's TLS outcome (scriptParts.ts TlsState); undefined for a job from before TLS. */
  tls?: string;
  /** lab (JupyterLab) or server (jupyter-server); undefined for a job from before. */
  app?: string;
}

/** Pure: the parsed connection file. An https scheme needs a well-formed fingerprint. */
export function parseConnection(info: unknown): JobConnection | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const raw = info as { host?: unknown; port?: unknown; scheme?: unknown; cert_fingerprint?: unknown; tls?: unknown; app?: unknown };
  const host = String(raw.host ?? '');
  const port = Number(raw.port);
  if (!/^[A-Za-z0-9.-]+$/.test(host) || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  const word = (value: unknown) => (typeof value === 'string' && /^[a-z-]{1,20}$/.test(value) ? value : undefined);
  const connection: JobConnection = { host, port, tls: word(raw.tls), app: word(raw.app) };
  if (raw.scheme === 'https') {
    const fingerprint = normalizeFingerprint(typeof raw.cert_fingerprint === 'string' ? raw.cert_fingerprint : undefined);
    if (!fingerprint) return undefined;
    connection.certFingerprint = fingerprint;
  } else if (raw.scheme !== undefined && raw.scheme !== 'http') {
    return undefined;
  }
  return connection;
}

/**
 * Rewrites the heartbeat file. A write (not utimes) so the file server stamps the mtime with
 * its own clock: the job compares it with the node's clock, not ours.
 */
export async function writeHeartbeat(job: Job): Promise<void> {
  try {
    await writeFile(job.heartbeatFile, `${new Date().toISOString()}\n`, { mode: 0o600 });
  } catch (error) {
    log.warn(`SLURM: could not write the heartbeat file ${job.heartbeatFile}: ${messageOf(error)}`);
  }
}
