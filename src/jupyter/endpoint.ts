import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';
import { installQuickAck } from './quickAck.js';

/** Where a Jupyter server answers, and its token. `baseUrl` ends with `/`. */
export interface ServerEndpoint {
  baseUrl: string;
  token: string;
  /**
   * Answer every batch of server frames with an empty pong so the TCP ACK is not delayed.
   * For servers we did not start (they may leave Nagle on); see quickAck.ts.
   */
  quickAck?: boolean;
}

export function normalizeBaseUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * A `ws` class bound to one server: the token goes in the Authorization header of the upgrade
 * request (so it never appears in a URL the server logs), plus the optional quick-ACK.
 */
function webSocketFor(endpoint: ServerEndpoint): unknown {
  const headers = endpoint.token ? { Authorization: `token ${endpoint.token}` } : {};
  const quickAck = endpoint.quickAck === true;
  return class AuthorizedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers, perMessageDeflate: false });
      if (quickAck) installQuickAck(this);
    }
  };
}

/** Settings for @jupyterlab/services: the token travels in Authorization headers only. */
export function serverSettings(endpoint: ServerEndpoint): ServerConnection.ISettings {
  const baseUrl = normalizeBaseUrl(endpoint.baseUrl);
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token: endpoint.token,
    appendToken: false,
    WebSocket: webSocketFor(endpoint) as unknown as typeof globalThis.WebSocket,
    // Node has no cookies or CSRF forms; the token header is the credential.
    init: { cache: 'no-store', credentials: 'omit' } as RequestInit,
  });
}
