import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createMcpHandler, isLegacyRequest, readRequestBody, type JSONRPCMessage, type McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../../config/settings.js';
import { JlabError, messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { registerSecret } from '../../util/secrets.js';
import { isLoopback, parseListenAddress, urlHost } from './address.js';
import { allowlistFor, refuseForeign } from './allowlist.js';
import { bearerGate } from './bearer.js';
import { McpSessions } from './mcpSessions.js';
import { nodeListener } from './nodeBridge.js';
import { loadOrCreateToken } from './tokenFile.js';

/** The one path MCP is served at. */
export const MCP_PATH = '/mcp';
/** How long closing waits for open responses before it cuts the connections. */
const CLOSE_GRACE_MS = 2_000;

export interface HttpFront {
  /** e.g. http://127.0.0.1:8765/mcp (the bound port when 0 was asked). */
  url: string;
  /** Ends every MCP session and the listener. */
  close(): Promise<void>;
}

export interface HttpHooks {
  /** Sees every inbound message (e.g. to notice that a client stays). */
  observe?: (message: JSONRPCMessage) => void;
}

/**
 * Serves MCP over streamable HTTP at `--http [host:]port` (see docs/http.md). Each
 * request passes, in order: the Host/Origin allowlist (403), the bearer token (401), the path
 * (404), then the SDK in the protocol era the request speaks (both answer 413 past the body
 * limit): 2025-era traffic (`initialize`, `Mcp-Session-Id`) to the MCP session it belongs to,
 * 2026-07-28 per-request traffic to the SDK's `createMcpHandler` (a server per request).
 * Logs the URL and the token file's path on stderr, never the token.
 */
export async function serveHttp(
  config: Config,
  stateDir: string,
  build: (options: { walltime: boolean }) => McpServer,
  hooks: HttpHooks = {},
): Promise<HttpFront> {
  const address = parseListenAddress(config.http ?? '');
  const tokenFile = path.resolve(config.httpTokenFile ?? path.join(stateDir, 'http-token'));
  const { token, created } = config.httpToken ? { token: config.httpToken, created: false } : await loadOrCreateToken(tokenFile);
  registerSecret(token);
  const allow = allowlistFor(address, config.httpAllowedHosts, config.httpAllowedOrigins);
  const gate = bearerGate(token);
  const sessions = new McpSessions({ build, maxBodyBytes: config.httpMaxBody, observe: hooks.observe });
  // Per-request servers live for one exchange: walltime notices go to the 2025-era sessions.
  const perRequest = createMcpHandler(() => build({ walltime: false }), {
    legacy: 'reject',
    maxRequestBodySize: config.httpMaxBody,
    onerror: (error) => log.debug(`HTTP (2026-07-28): ${messageOf(error)}`),
  });

  const handle = async (request: Request): Promise<Response> => {
    const foreign = refuseForeign(request, allow);
    if (foreign)
      return refused(request, foreign, `Host ${request.headers.get('host') ?? '(none)'}, Origin ${request.headers.get('origin') ?? '(none)'} not allowed`);
    const auth = await gate(request);
    if (auth instanceof Response) return refused(request, auth, request.headers.has('authorization') ? 'wrong bearer token' : 'no bearer token');
    if (new URL(request.url).pathname !== MCP_PATH) return new Response(`Not found: MCP is served at ${MCP_PATH}\n`, { status: 404 });
    // The SDK's own routing predicate, the documented way to keep sessionful 2025 serving next to the per-request revision.
    if (await isLegacyRequest(request, undefined, { maxRequestBodySize: config.httpMaxBody })) return sessions.handle(request, auth);
    if (hooks.observe) void observeBody(request, config.httpMaxBody, hooks.observe);
    return perRequest.fetch(request, { authInfo: auth });
  };

  const server = createServer(nodeListener(handle));
  const port = await listen(server, address.host, address.port);
  const url = `http://${urlHost(address.host)}:${port}${MCP_PATH}`;
  const where = config.httpToken ? 'the token in JLAB_MCP_HTTP_TOKEN' : `the token in ${tokenFile}${created ? ' (new, 0600)' : ''}`;
  log.info(`serving MCP over streamable HTTP at ${url}; clients send "Authorization: Bearer <${where}>"`);
  if (!isLoopback(address.host)) {
    log.warn(
      `--http binds ${address.host}, not loopback: the bearer token and every cell cross the network unencrypted. Prefer 127.0.0.1 and an ssh tunnel (docs/http.md).`,
    );
  }
  return {
    url,
    close: async () => {
      await sessions.closeAll();
      await perRequest.close();
      await closeServer(server);
    },
  };
}

/** The messages of a per-request POST, for the observer (a copy of the body, read within the limit; errors are the handler's to answer). */
async function observeBody(request: Request, maxBytes: number, observe: (message: JSONRPCMessage) => void): Promise<void> {
  if (request.method !== 'POST') return;
  try {
    const read = await readRequestBody(request.clone(), maxBytes);
    if (read.tooLarge) return;
    const body = JSON.parse(read.text) as unknown;
    for (const message of Array.isArray(body) ? body : [body]) if (message && typeof message === 'object') observe(message as JSONRPCMessage);
  } catch {
    // Not JSON: the handler says so to the client.
  }
}

function refused(request: Request, response: Response, why: string): Response {
  log.info(`HTTP ${request.method} refused with ${response.status}: ${why}`);
  return response;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(
        new JlabError('CONFIG_INVALID', `Cannot listen on ${urlHost(host)}:${port}: ${messageOf(error)}`, {
          hint:
            error.code === 'EADDRINUSE'
              ? 'Another program uses that port: pick another one, or port 0 for a free one.'
              : 'Check the host part of JLAB_MCP_HTTP / --http.',
        }),
      );
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : port);
    });
  });
}

/** Stops accepting, lets open responses end for a moment, then cuts what is left (idle SSE streams). */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    cut.unref();
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
