import type { JSONRPCMessage, McpServer, Transport } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';

export interface StdioHooks {
  /** Sees every inbound message first (e.g. to notice that a client stays). */
  observe?: (message: JSONRPCMessage) => void;
  /** The client closed the pipe. */
  onClose: () => void;
}

/**
 * Serves MCP over this process's stdio in both protocol eras: SDK 2.4 answers `server/discover`
 * and serves the 2026-07-28 revision (where the tasks extension lives) only through
 * `serveStdio`, which picks the era from the client's opening message and pins one server
 * instance from `build` for the connection (2025 clients get today's `initialize` path). `build`
 * may be called twice when a client probes with `server/discover` and then falls back to
 * `initialize`; the SDK then closes the first instance.
 */
export function serveOverStdio(build: () => McpServer, hooks: StdioHooks): { close(): Promise<void> } {
  const wire = new StdioServerTransport();
  // serveStdio owns the transport's handlers; this thin wrapper lets ours run too.
  const tapped: Transport = {
    start: () => wire.start(),
    send: (message) => wire.send(message),
    close: () => wire.close(),
  };
  wire.onmessage = (message: JSONRPCMessage) => {
    hooks.observe?.(message);
    tapped.onmessage?.(message);
  };
  wire.onerror = (error) => tapped.onerror?.(error);
  wire.onclose = () => {
    tapped.onclose?.();
    hooks.onClose();
  };
  return serveStdio(build, { transport: tapped, onerror: (error) => log.debug(`stdio: ${messageOf(error)}`) });
}
