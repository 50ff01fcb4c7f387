import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport, type AuthInfo, type JSONRPCMessage, type McpServer } from '@modelcontextprotocol/server';
import { messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';

export interface McpSessionOptions {
  /** A fresh, unconnected MCP server for one client connection (it hears walltime notices). */
  build: (options: { walltime: boolean }) => McpServer;
  /** Bytes one request body may have (413 beyond, from the transport). */
  maxBodyBytes: number;
  /** Sees every inbound message first (e.g. to notice that a client stays). */
  observe?: (message: JSONRPCMessage) => void;
}

/**
 * MCP sessions kept at most: clients that vanish without ending theirs (a killed laptop client)
 * would otherwise pile up. Past it the least recently used one is closed; its client, if it
 * ever comes back, gets 404 and initializes again.
 */
const MAX_MCP_SESSIONS = 64;

interface Live {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
}

/**
 * MCP sessions of the streamable HTTP transport (`Mcp-Session-Id`): one McpServer and one SDK
 * transport per client connection, all over the one SessionManager — so a laptop client that
 * reconnects finds its Jupyter sessions. A request without a session id gets a new transport,
 * which the SDK either initializes (an `initialize` request: the session is kept) or refuses
 * (anything else: the pair is closed again).
 */
export class McpSessions {
  private readonly live = new Map<string, Live>();
  private closing = false;

  constructor(private readonly options: McpSessionOptions) {}

  async handle(request: Request, authInfo: AuthInfo): Promise<Response> {
    if (this.closing) return jsonRpcError(503, 'jlab-mcp is shutting down.');
    const id = request.headers.get('mcp-session-id');
    if (id) {
      const known = this.live.get(id);
      // The spec's answer to a session we do not know (ended, or from before a restart): 404, and the client initializes again.
      if (!known) return jsonRpcError(404, 'Session not found: initialize a new one.');
      // Most recently used last (a Map keeps insertion order).
      this.live.delete(id);
      this.live.set(id, known);
      return known.transport.handleRequest(request, { authInfo });
    }
    const pair = await this.open();
    try {
      return await pair.transport.handleRequest(request, { authInfo });
    } finally {
      if (!pair.transport.sessionId) void pair.server.close().catch(() => {});
    }
  }

  /** Ends every MCP session (their SSE streams close); the Jupyter sessions are not touched. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.live.values()].map(({ server }) => server.close().catch(() => {})));
    this.live.clear();
  }

  private closeLeastRecent(): void {
    const [id, oldest] = this.live.entries().next().value!;
    log.info(`HTTP: MCP session ${id.slice(0, 8)}… closed: the least recently used of more than ${MAX_MCP_SESSIONS}`);
    void oldest.server.close().catch(() => {});
  }

  private async open(): Promise<Live> {
    const server = this.options.build({ walltime: true });
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      maxRequestBodySize: this.options.maxBodyBytes,
      onsessioninitialized: (id) => {
        this.live.set(id, { server, transport });
        log.info(`HTTP: MCP session ${id.slice(0, 8)}… opened (${this.live.size} open)`);
        if (this.live.size > MAX_MCP_SESSIONS) this.closeLeastRecent();
      },
    });
    // Set before connect: the SDK chains its own close handling after ours.
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && this.live.delete(id)) log.info(`HTTP: MCP session ${id.slice(0, 8)}… closed (${this.live.size} open)`);
    };
    transport.onerror = (error) => log.debug(`HTTP transport: ${messageOf(error)}`);
    await server.connect(transport);
    const deliver = transport.onmessage;
    const observe = this.options.observe;
    if (observe && deliver) {
      transport.onmessage = (message, extra) => {
        observe(message);
        deliver(message, extra);
      };
    }
    return { server, transport };
  }
}

function jsonRpcError(status: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }, { status });
}
