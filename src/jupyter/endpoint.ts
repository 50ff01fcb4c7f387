import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { displayUrl } from '../util/secrets.js';
import { fetchThroughAgent, pinnedAgent } from './pinnedTls.js';
import { installQuickAck } from './quickAck.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, fetchWithDeadline } from './requestDeadline.js';

/** Where a Jupyter server answers, and its token. `baseUrl` ends with `/`. */
export interface ServerEndpoint {
  baseUrl: string;
  token: string;
  /**
   * Answer every batch of server frames with an empty pong so the TCP ACK is not delayed.
   * For servers we did not start (they may leave Nagle on); see quickAck.ts.
   */
  quickAck?: boolean;
  /**
   * Milliseconds one REST request (with its response body) and one websocket opening handshake
   * may take before they fail with a TIMEOUT error. Default 30 000 (JLAB_MCP_REQUEST_TIMEOUT).
   */
  requestTimeoutMs?: number;
  /**
   * SHA-256 fingerprint of the server's self-signed TLS certificate (`AB:CD:…`), for an
   * `https://` server whose certificate no CA vouches for (a SLURM job's). Every REST request
   * and websocket then goes through a connection pinned to it (pinnedTls.ts); a different
   * certificate fails with a clear error before the token is sent.
   */
  certFingerprint?: string;
  /**
   * Where new kernels start, as a Jupyter API path relative to the server's root directory
   * (`''`: the root directory itself, the one its file browser shows). Unset: the server's
   * default, the working directory of its process. Set for servers we did not start, whose
   * process directory (a hub user's home) can differ from the root they serve.
   */
  kernelPath?: string;
}

export function normalizeBaseUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * A `ws` class bound to one server: the token goes in the Authorization header of the upgrade
 * request (so it never appears in a URL the server logs), the opening handshake has a deadline
 * (a server that accepts the connection and never upgrades it must not hold a kernel start),
 * plus the optional quick-ACK.
 */
function webSocketFor(endpoint: ServerEndpoint, handshakeTimeout: number): unknown {
  const headers = endpoint.token ? { Authorization: `token ${endpoint.token}` } : {};
  const quickAck = endpoint.quickAck === true;
  const agent = pinnedAgentOf(endpoint, handshakeTimeout);
  return class AuthorizedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers, perMessageDeflate: false, handshakeTimeout, agent });
      if (quickAck) installQuickAck(this);
      // The library only sees a close; say here why, for whoever reads the log. (A socket we
      // close ourselves while it connects also errs: that one is only worth a debug line.)
      let opened = false;
      this.once('open', () => (opened = true));
      this.once('error', (error) => {
        if (opened) return;
        const line = `websocket ${displayUrl(String(url))} did not open: ${error.message}`;
        if (/timed out/.test(error.message)) log.warn(line);
        else log.debug(line);
      });
    }
  };
}

/** The pinned agent of an endpoint with a certificate fingerprint; undefined for any other. */
function pinnedAgentOf(endpoint: ServerEndpoint, handshakeTimeoutMs: number) {
  if (endpoint.certFingerprint === undefined) return undefined;
  if (!endpoint.baseUrl.startsWith('https:')) {
    throw new JlabError('INTERNAL', `A certificate fingerprint is pinned for ${displayUrl(endpoint.baseUrl)}, which is not an https URL.`);
  }
  return pinnedAgent(endpoint.certFingerprint, handshakeTimeoutMs);
}

/**
 * The plain `fetch` for this endpoint (no deadline of its own): Node's, or one pinned to the
 * endpoint's certificate. For the few requests that bring their own deadline (status probes).
 */
export function endpointFetch(endpoint: ServerEndpoint): typeof fetch {
  const agent = pinnedAgentOf(endpoint, endpoint.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  return agent ? fetchThroughAgent(agent) : fetch;
}

/**
 * Settings for @jupyterlab/services: the token travels in Authorization headers only, and every
 * REST call (the library's too: interrupt, restart, kernelspecs) and websocket handshake is
 * bounded by `endpoint.requestTimeoutMs`; with `endpoint.certFingerprint`, both go over TLS
 * pinned to that certificate. `restDeadline` replaces the REST deadline (and the setting its
 * timeout error names) for a request that takes longer by nature, such as a kernel start.
 */
export function serverSettings(endpoint: ServerEndpoint, restDeadline?: { timeoutMs: number; setting: string }): ServerConnection.ISettings {
  const baseUrl = normalizeBaseUrl(endpoint.baseUrl);
  const timeoutMs = endpoint.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const transport = endpoint.certFingerprint === undefined ? undefined : endpointFetch(endpoint);
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token: endpoint.token,
    appendToken: false,
    fetch: restDeadline
      ? fetchWithDeadline(baseUrl, restDeadline.timeoutMs, transport, restDeadline.setting)
      : fetchWithDeadline(baseUrl, timeoutMs, transport),
    WebSocket: webSocketFor(endpoint, timeoutMs) as unknown as typeof globalThis.WebSocket,
    // Node has no cookies or CSRF forms; the token header is the credential.
    init: { cache: 'no-store', credentials: 'omit' } as RequestInit,
  });
}
