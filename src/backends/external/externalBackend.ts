import { JupyterRestClient, TOKEN_HINT, type StatusProbe } from '../../jupyter/restClient.js';
import { endpointFetch, normalizeBaseUrl, type ServerEndpoint } from '../../jupyter/endpoint.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../jupyter/requestDeadline.js';
import { pollUntil } from '../../util/deadline.js';
import { JlabError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { displayUrl } from '../../util/secrets.js';
import type { JupyterBackend } from '../types.js';
import type { ExternalDescription } from './description.js';
import { hubSpawnPending } from './hubSpawn.js';

export interface ExternalBackendOptions {
  url: string;
  token: string;
  /** Milliseconds for the server to answer `/api/status` (JLAB_MCP_SERVER_START_TIMEOUT). */
  startTimeoutMs: number;
  /** Milliseconds per REST request and websocket handshake. Default 30 000 (JLAB_MCP_REQUEST_TIMEOUT). */
  requestTimeoutMs?: number;
  /** We cannot make someone else's server send without Nagle; the client-side fix stands in. Default true. */
  quickAck?: boolean;
}

/** A server the user already runs (JupyterLab, a JupyterHub single-user server). Never stopped by us. */
export class ExternalBackend implements JupyterBackend<'external'> {
  readonly kind = 'external' as const;

  constructor(private readonly options: ExternalBackendOptions) {}

  /**
   * Resolves once `/api/status` answers 200. Each look is bounded by the request timeout and by
   * what is left of the start timeout, so a server that accepts connections and never answers
   * fails within the start timeout, saying so. Answers that waiting cannot change (FINAL) fail
   * at once; a hub server that is still being spawned is waited for.
   */
  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    const { url, token, startTimeoutMs } = this.options;
    const requestTimeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // Kernels start in the root directory the server serves (its file browser's), not wherever its
    // process happens to run: a JupyterHub server runs in the user's home, whatever its notebook_dir.
    const endpoint: ServerEndpoint = { baseUrl: normalizeBaseUrl(url), token, quickAck: this.options.quickAck ?? true, requestTimeoutMs, kernelPath: '' };
    const rest = new JupyterRestClient(endpoint);
    const deadline = Date.now() + startTimeoutMs;
    let last: Look | undefined;
    try {
      await pollUntil(
        async () => {
          const seenSpawning = last?.up === false && last.why === 'spawning';
          last = await look(rest, Math.max(100, Math.min(requestTimeoutMs, deadline - Date.now())), signal);
          if (last.up) return true;
          if (last.why === 'spawning' && !seenSpawning) log.info(`The Jupyter server at ${displayUrl(url)} ${last.words}; waiting for it`);
          if (FINAL.has(last.why)) throw finalError(url, last);
          return undefined;
        },
        { timeoutMs: startTimeoutMs, what: `Jupyter server at ${displayUrl(url)} answering /api/status`, signal, maxIntervalMs: 2000 },
      );
    } catch (error) {
      if (signal.aborted || (error instanceof JlabError && error.code !== 'TIMEOUT')) throw error;
      throw startError(url, startTimeoutMs, last, error);
    }
    return endpoint;
  }

  async stop(): Promise<void> {}

  async checkLost(): Promise<string | undefined> {
    return undefined;
  }

  describe(): ExternalDescription {
    return { kind: this.kind, url: displayUrl(this.options.url) };
  }
}

/** A look at the server: its status probe, or a hub server that is not running *yet*. */
type Look = StatusProbe | { up: false; why: 'spawning'; words: string };

/**
 * GET /api/status; and when JupyterHub answers "not running", whether it is spawning the server
 * (the hub answers a pending spawn with the same 424 as a stopped server).
 */
async function look(rest: JupyterRestClient, timeoutMs: number, signal: AbortSignal): Promise<Look> {
  const probe = await rest.probeStatus(timeoutMs, signal);
  if (probe.up || probe.why !== 'stopped') return probe;
  const { endpoint } = rest;
  const pending = await hubSpawnPending(endpointFetch(endpoint), endpoint.baseUrl, endpoint.token, timeoutMs, signal);
  return pending ? { up: false, why: 'spawning', words: `is not up yet: JupyterHub is still starting it (pending: ${pending})` } : probe;
}

/**
 * Answers that waiting cannot change: the start fails on the first one, each with its own next
 * step. Only a server that may still be coming up (timeouts, 5xx, resets) is waited for.
 */
const FINAL = new Set<string>(['token', 'refused', 'stopped', 'not-jupyter']);

/** The error for an answer in FINAL. */
function finalError(url: string, probe: Extract<Look, { up: false }>): JlabError {
  const where = `The Jupyter server at ${displayUrl(url)}`;
  const context = { url: displayUrl(url), reason: probe.why };
  switch (probe.why) {
    case 'token':
      return new JlabError('JUPYTER_TOKEN_REJECTED', `Token rejected by ${displayUrl(url)} (${('evidence' in probe && probe.evidence) || probe.words}).`, {
        hint: TOKEN_HINT,
        context,
      });
    case 'refused':
      return new JlabError('JUPYTER_UNREACHABLE', `${where} ${probe.words}.`, {
        hint: 'Start that Jupyter server (or your JupyterHub server), or fix the host and port in JLAB_MCP_JUPYTER_URL; the next call tries again.',
        context,
      });
    case 'stopped':
      return new JlabError('JUPYTER_UNREACHABLE', `${where} ${probe.words}.`, {
        hint: `Start your server from the hub (${('spawnUrl' in probe && probe.spawnUrl) || 'its home page'}) and wait until it runs; the next call tries again.`,
        context,
      });
    default:
      return new JlabError('SERVER_START_FAILED', `${where} ${probe.words}.`, {
        hint: "JLAB_MCP_JUPYTER_URL must be the server's base URL: http://host:port/ for a Jupyter server, https://<hub>/user/<name>/ for a JupyterHub server.",
        context,
      });
  }
}

/** Why the server never came up, from the last look at it. */
function startError(url: string, startTimeoutMs: number, last: Look | undefined, cause: unknown): JlabError {
  const where = `The Jupyter server at ${displayUrl(url)}`;
  if (last && !last.up && last.why === 'spawning') {
    return new JlabError('SERVER_START_FAILED', `${where} ${last.words} after ${startTimeoutMs / 1000} s (JLAB_MCP_SERVER_START_TIMEOUT).`, {
      hint: 'A hub server can take long to start (a batch job waits in its queue): call again once the hub shows it running, or raise JLAB_MCP_SERVER_START_TIMEOUT.',
      cause,
    });
  }
  if (last && !last.up && last.why === 'timeout') {
    return new JlabError(
      'SERVER_START_FAILED',
      `${where} never answered GET /api/status within ${startTimeoutMs / 1000} s (JLAB_MCP_SERVER_START_TIMEOUT): the connection stays silent.`,
      {
        hint: 'Check that the server is not hung, that JLAB_MCP_JUPYTER_URL points at a Jupyter server reachable from here, or raise JLAB_MCP_SERVER_START_TIMEOUT if it is only slow. The next call tries again.',
        cause,
      },
    );
  }
  const words = last && !last.up ? last.words : 'did not answer GET /api/status';
  return new JlabError('SERVER_START_FAILED', `${where} ${words}.`, {
    hint: 'Check that it runs and that JLAB_MCP_JUPYTER_URL / JLAB_MCP_JUPYTER_TOKEN are right; the next call tries again.',
    cause,
  });
}
