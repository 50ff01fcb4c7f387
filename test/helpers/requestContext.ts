// The part of an MCP request's context the waiters read (its abort signal, its progress token, and
// notify for progress), for unit tests that call them without a server. One cast: the SDK builds
// the real context per request, and nothing else of it is used here.
import type { ServerContext } from '@modelcontextprotocol/server';

export interface RequestFixture {
  ctx: ServerContext;
  /** Aborting it cancels the request, as a client's cancellation does. */
  abort: AbortController;
  /** Progress notifications sent so far (only with `progress`). */
  progress: Array<{ progress: number; message?: string }>;
}

export function requestContext(options: { progress?: boolean } = {}): RequestFixture {
  const abort = new AbortController();
  const progress: RequestFixture['progress'] = [];
  const notify = async (notification: { params: { progress: number; message?: string } }) => {
    progress.push({ progress: notification.params.progress, message: notification.params.message });
  };
  const mcpReq = { signal: abort.signal, _meta: options.progress ? { progressToken: 'test-token' } : {}, notify };
  return { ctx: { mcpReq } as unknown as ServerContext, abort, progress };
}
