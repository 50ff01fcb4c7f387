import { JupyterRestClient, type StatusProbe } from '../../jupyter/restClient.js';
import { normalizeBaseUrl, type ServerEndpoint } from '../../jupyter/endpoint.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../jupyter/requestDeadline.js';
import { pollUntil } from '../../util/deadline.js';
import { JlabError } from '../../util/errors.js';
import { displayUrl } from '../../util/secrets.js';
import type { JupyterBackend } from '../types.js';

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
export class ExternalBackend implements JupyterBackend {
  readonly kind = 'external' as const;

  constructor(private readonly options: ExternalBackendOptions) {}

  /**
   * Resolves once `/api/status` answers 200. Each look is bounded by the request timeout and by
   * what is left of the start timeout, so a server that accepts connections and never answers
   * fails within the start timeout, saying so.
   */
  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    const { url, token, startTimeoutMs } = this.options;
    const requestTimeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const endpoint: ServerEndpoint = { baseUrl: normalizeBaseUrl(url), token, quickAck: this.options.quickAck ?? true, requestTimeoutMs };
    const rest = new JupyterRestClient(endpoint);
    const deadline = Date.now() + startTimeoutMs;
    let last: StatusProbe | undefined;
    try {
      await pollUntil(
        async () => {
          last = await rest.probeStatus(Math.max(100, Math.min(requestTimeoutMs, deadline - Date.now())), signal);
          return last.up ? true : undefined;
        },
        { timeoutMs: startTimeoutMs, what: `Jupyter server at ${displayUrl(url)} answering /api/status`, signal, maxIntervalMs: 2000 },
      );
    } catch (error) {
      if (signal.aborted) throw error;
      throw startError(url, startTimeoutMs, last, error);
    }
    return endpoint;
  }

  async stop(): Promise<void> {}

  async checkLost(): Promise<string | undefined> {
    return undefined;
  }

  describe(): Record<string, unknown> {
    return { kind: this.kind, url: displayUrl(this.options.url) };
  }
}

/** Why the server never came up, from the last look at it. */
function startError(url: string, startTimeoutMs: number, last: StatusProbe | undefined, cause: unknown): JlabError {
  const where = `The Jupyter server at ${displayUrl(url)}`;
  if (last && !last.up && last.why === 'timeout') {
    return new JlabError('SERVER_START_FAILED', `${where} never answered GET /api/status within ${startTimeoutMs / 1000} s (JLAB_MCP_SERVER_START_TIMEOUT): the connection stays silent.`, {
      hint: 'Check that the server is not hung, that JLAB_MCP_JUPYTER_URL points at a Jupyter server reachable from here, or raise JLAB_MCP_SERVER_START_TIMEOUT if it is only slow. The next call tries again.',
      cause,
    });
  }
  const words = last && !last.up ? last.words : 'does not answer /api/status with the given token';
  return new JlabError('SERVER_START_FAILED', `${where} ${words}.`, {
    hint: 'Check that it runs and that JLAB_MCP_JUPYTER_URL / JLAB_MCP_JUPYTER_TOKEN are right; the next call tries again.',
    cause,
  });
}
