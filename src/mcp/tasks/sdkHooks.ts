import { McpServer, type CallToolResult, type RegisteredTool, type ServerContext } from '@modelcontextprotocol/server';

/** A tools/call request as the low-level server hands it to its handler. */
export interface ToolsCallRequest {
  method: 'tools/call';
  params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown>; task?: unknown; [key: string]: unknown };
}

export type ToolsCallHandler = (request: ToolsCallRequest, ctx: ServerContext) => Promise<CallToolResult | Record<string, unknown>>;

/*
 * SDK 2.4 has no tasks runtime and no public hook in front of McpServer's tools/call handler:
 * that handler validates every return against the tool's outputSchema and the era's
 * CallToolResult schema, which a task handle (`resultType: "task"`, or 2025's `{task}`) can
 * never pass. So the handler is swapped in the low-level request table, keeping the original
 * for every call that does not become a task. These two private fields are the only ones
 * touched; `checkSdkHooks` fails loudly at start-up if a future SDK renames them.
 */
interface LowLevelServer {
  _requestHandlers: Map<string, (request: unknown, ctx: unknown) => Promise<unknown>>;
}

/** Puts `wrap(original)` in place of McpServer's tools/call handler (call after the tools are registered). */
export function installToolsCallHook(server: McpServer, wrap: (original: ToolsCallHandler) => ToolsCallHandler): void {
  const handlers = (server.server as unknown as LowLevelServer)._requestHandlers;
  const original = handlers instanceof Map ? handlers.get('tools/call') : undefined;
  if (!original) throw new Error('jlab-mcp tasks: the SDK no longer keeps request handlers where expected (tools/call); tasks cannot be served');
  handlers.set('tools/call', wrap(original as unknown as ToolsCallHandler) as unknown as (request: unknown, ctx: unknown) => Promise<unknown>);
}

/** Marks tools as task-capable in tools/list (the 2025-11-25 `execution.taskSupport`). */
export function markTaskSupport(server: McpServer, names: readonly string[]): void {
  const tools = (server as unknown as { _registeredTools?: Record<string, RegisteredTool> })._registeredTools;
  if (typeof tools !== 'object' || tools === null)
    throw new Error('jlab-mcp tasks: the SDK no longer keeps registered tools where expected; tasks cannot be served');
  for (const name of names) {
    const tool = tools[name];
    if (tool) tool.execution = { ...tool.execution, taskSupport: 'optional' };
  }
}

/**
 * Both hooks on a throwaway server, at start-up: the servers that serve clients are built only
 * when a client's first message arrives, too late to find out that this SDK moved the fields.
 */
export function checkSdkHooks(): void {
  const probe = new McpServer({ name: 'jlab-mcp-probe', version: '0' });
  probe.registerTool('probe', { description: 'probe' }, () => ({ content: [] }));
  markTaskSupport(probe, ['probe']);
  installToolsCallHook(probe, (original) => original);
}
