import { Client, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, type RawClientDispatch, type TaskEnabledSession } from '@modelcontextprotocol/ext-tasks/client';
import { stdioServer } from './mcpClient.js';

/** `modern`: protocol 2026-07-28 (the tasks extension, v2); `legacy`: 2025-11-25 (core tasks, v1). */
export type Era = 'modern' | 'legacy';

const MODERN = '2026-07-28';
const CLIENT_INFO = { name: 'jlab-mcp-task-tests', version: '0.0.0' };

export interface TasksClient {
  client: Client;
  /** The official ext-tasks requester session over this client. */
  tasks: TaskEnabledSession;
  notebookDir: string;
  stderr: () => string;
  pid: () => number | undefined;
  /** A raw request outside the SDK's codecs (e.g. tasks/get of a task id from an earlier jlab-mcp), framed for the era. */
  raw: (
    method: string,
    params: Record<string, unknown>,
    declareTasks?: boolean,
  ) => Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }>;
  close: () => Promise<void>;
}

/**
 * Spawns the built jlab-mcp over stdio and connects the official client in the given era, with
 * the official `@modelcontextprotocol/ext-tasks` session on top. For the 2026-07-28 shape that
 * session needs a raw request path next to the SDK client (its codecs do not know task
 * results): requests with ids of their own go straight to the transport and their answers are
 * taken off the stream before the SDK sees them.
 */
export async function connectTasksClient(era: Era, env: Record<string, string> = {}, notebookDir?: string): Promise<TasksClient> {
  const stdio = await stdioServer(env, notebookDir, 'jlab-tasks-');
  const { transport } = stdio;
  const client = new Client(
    CLIENT_INFO,
    era === 'modern' ? { supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, MODERN], versionNegotiation: { mode: { pin: MODERN } } } : {},
  );
  await client.connect(transport);
  const pending = new Map<string, (message: Record<string, unknown>) => void>();
  const sdkOnMessage = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage, extra?: unknown) => {
    const id = (message as { id?: unknown }).id;
    if (typeof id === 'string' && !('method' in message) && pending.has(id)) {
      pending.get(id)!(message as Record<string, unknown>);
      pending.delete(id);
      return;
    }
    (sdkOnMessage as ((m: JSONRPCMessage, e?: unknown) => void) | undefined)?.(message, extra);
  };
  let next = 0;
  const framing = { protocolVersion: MODERN, clientInfo: CLIENT_INFO, clientCapabilities: {} };
  const send = async (request: Record<string, unknown>, signal?: AbortSignal) => {
    const id = `raw-${next++}`;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      pending.set(id, resolve);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    await transport.send({ jsonrpc: '2.0', id, ...request } as JSONRPCMessage);
    return answer;
  };
  const rawDispatch: RawClientDispatch = async (request, options) => {
    const response = await send(request as Record<string, unknown>, options?.signal);
    return 'error' in response
      ? { kind: 'error', error: response.error as { code: number; message: string } }
      : { kind: 'result', result: response.result as Record<string, never> };
  };
  const endpointId = `jlab-mcp-${era}`;
  const tasks = createTaskSessionFromClient(client, era === 'modern' ? { endpointId, rawDispatch, v2RequestFraming: framing } : { endpointId });
  const raw = async (method: string, params: Record<string, unknown>, declareTasks = true) => {
    const capabilities = declareTasks ? { extensions: { 'io.modelcontextprotocol/tasks': {} } } : {};
    const envelope =
      era === 'modern'
        ? {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
            'io.modelcontextprotocol/clientCapabilities': capabilities,
          }
        : {};
    const response = await send({ method, params: { ...params, _meta: envelope } });
    return { result: response.result as Record<string, unknown> | undefined, error: response.error as { code: number; message: string } | undefined };
  };
  return {
    client,
    tasks,
    notebookDir: stdio.notebookDir,
    stderr: stdio.stderr,
    pid: stdio.pid,
    raw,
    close: async () => {
      await tasks.close().catch(() => {});
      await client.close();
    },
  };
}
