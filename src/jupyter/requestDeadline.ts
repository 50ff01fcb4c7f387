import { JlabError } from '../util/errors.js';
import { displayUrl } from '../util/secrets.js';

/** Default of `ServerEndpoint.requestTimeoutMs` (JLAB_MCP_REQUEST_TIMEOUT): 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The setting named in a timeout message: it is what the user can change. */
const SETTING = 'JLAB_MCP_REQUEST_TIMEOUT';

/** The setting that bounds POST /api/kernels: Jupyter answers it only once the kernel process runs. */
export const KERNEL_START_SETTING = 'JLAB_MCP_KERNEL_START_TIMEOUT';

/** The next step after a request timeout. */
export const REQUEST_TIMEOUT_HINT = `Check that the Jupyter server is alive and reachable from here, or raise ${SETTING} if it is just slow; the next call tries again.`;

/** Statuses whose Response may not carry a body (the Response constructor throws otherwise). */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * The error of a request that got no complete answer in time. Its message stands on its own
 * (server URL without token, method, path, the setting) because @jupyterlab/services re-wraps it
 * in a NetworkError that keeps only the message.
 */
export class RequestTimeoutError extends JlabError {
  constructor(serverUrl: string, method: string, url: string, timeoutMs: number, setting = SETTING) {
    const path = new URL(url).pathname;
    super('TIMEOUT', `The Jupyter server at ${displayUrl(serverUrl)} did not answer ${method} ${path} within ${formatSeconds(timeoutMs)} (${setting}).`, {
      hint: timeoutHint(setting),
    });
  }
}

/** The next step after a timeout of the request bounded by `setting`. */
export function timeoutHint(setting: string): string {
  return setting === SETTING ? REQUEST_TIMEOUT_HINT : REQUEST_TIMEOUT_HINT.replace(SETTING, setting);
}

/** The setting a RequestTimeoutError names, also after @jupyterlab/services re-wrapped it (message only); undefined for any other error. */
export function requestTimeoutSetting(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return / \((JLAB_MCP_[A-Z_]+_TIMEOUT)\)\.$/.exec(error.message)?.[1];
}

/** True for a RequestTimeoutError, also after @jupyterlab/services re-wrapped it (message only). */
export function isRequestTimeout(error: unknown): boolean {
  return error instanceof RequestTimeoutError || requestTimeoutSetting(error) !== undefined;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

/**
 * A `fetch` in which the request and its whole response body must arrive within `timeoutMs`
 * (a caller's own signal still aborts it). The body is read inside the deadline — Jupyter's
 * REST answers are small JSON — so a server that sends headers and then stalls is caught too.
 * @param serverUrl the server's base URL, named in the timeout error (shown without credentials).
 * @param transport the fetch that does the request: Node's own (default), or one pinned to a
 *   certificate (pinnedTls.ts) for a server with a self-signed one.
 * @param setting the setting named in the timeout error (the one that sets `timeoutMs`).
 */
export function fetchWithDeadline(serverUrl: string, timeoutMs: number, transport?: typeof fetch, setting = SETTING): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await (transport ?? fetch)(request, { signal: AbortSignal.any([request.signal, deadline]) });
      const body = NULL_BODY_STATUS.has(response.status) ? null : await response.arrayBuffer();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      if (deadline.aborted && !request.signal.aborted) throw new RequestTimeoutError(serverUrl, request.method, request.url, timeoutMs, setting);
      throw error;
    }
  };
}
