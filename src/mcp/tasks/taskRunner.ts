import { ProtocolError, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server';
import { sleep } from '../../util/deadline.js';
import { messageOf } from '../../util/errors.js';
import { MAX_WAIT_SECONDS } from '../tools/schemas.js';
import { ERROR_META_KEY } from '../results.js';
import type { ToolsCallHandler, ToolsCallRequest } from './sdkHooks.js';
import type { TaskRecord } from './taskRecord.js';
import type { TaskStore } from './taskStore.js';

/** Tools whose wait ends at the cell's (or replay's) end when they run as a task. */
const WAITING_TOOLS = new Set(['execute_code', 'run_cell', 'edit_cell', 'start_session_resume_notebook', 'wait_for_cell', 'start_sweep']);

/**
 * Runs task-backed tool calls in the background: the very same tool handler as the plain call,
 * with the wait stretched to a day (the cell's end, in practice), its progress text kept as the
 * task's status message, and an abort signal that `tasks/cancel` fires — the handlers interrupt
 * the kernel on it, escalating as an interrupt does. Tasks an earlier jlab-mcp left are followed
 * through the reattached session (`wait_for_cell`) when first polled.
 */
export class TaskRunner {
  private readonly running = new Map<string, AbortController>();
  /** Settles when the task's call has ended (whatever its status). */
  private readonly ended = new Map<string, Promise<void>>();
  private readonly cancelRequested = new Set<string>();
  /** Tasks of an earlier jlab-mcp, followed with wait_for_cell (whose cancel does not interrupt). */
  private readonly following = new Set<string>();

  constructor(readonly store: TaskStore) {}

  /** Creates the task and starts the call; returns at once with the record. */
  start(request: ToolsCallRequest, ctx: ServerContext, generation: 'v1' | 'v2', ttlMs: number | undefined, handler: ToolsCallHandler): TaskRecord {
    const args = request.params.arguments ?? {};
    const sessionId = typeof args.session_id === 'string' ? args.session_id : undefined;
    const record = this.store.create(generation, request.params.name, sessionId, ttlMs);
    const { task: _task, ...params } = request.params;
    const taskArgs = WAITING_TOOLS.has(request.params.name) ? { ...args, timeout: MAX_WAIT_SECONDS } : args;
    this.run(record.taskId, { method: 'tools/call', params: { ...params, arguments: taskArgs } }, ctx, handler);
    return record;
  }

  /** After a restart: follows a task left working by an earlier jlab-mcp through its session. */
  follow(record: TaskRecord, ctx: ServerContext, handler: ToolsCallHandler): void {
    if (this.running.has(record.taskId) || record.status !== 'working') return;
    if (!record.sessionId) {
      this.store.fail(record.taskId, {
        code: -32603,
        message: `jlab-mcp restarted while this ${record.toolName} call was starting its session; call ${record.toolName} again.`,
      });
      return;
    }
    this.store.progress(record.taskId, `following session ${record.sessionId} after a jlab-mcp restart`);
    this.run(
      record.taskId,
      { method: 'tools/call', params: { name: 'wait_for_cell', arguments: { session_id: record.sessionId, timeout: MAX_WAIT_SECONDS } } },
      ctx,
      handler,
      true,
    );
  }

  /** True when the task's call ends within `ms` (or has ended); false when it is still working then, or `signal` aborts. */
  async endsWithin(taskId: string, ms: number, signal: AbortSignal): Promise<boolean> {
    const ended = this.ended.get(taskId);
    if (!ended) return true;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([
        ended.then(() => true),
        sleep(ms, stop.signal).then(
          () => false,
          () => false,
        ),
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  /** Whether this process runs the task (false for one an earlier jlab-mcp started). */
  isRunning(taskId: string): boolean {
    return this.running.has(taskId);
  }

  /**
   * Cancels a task: aborts its call, which interrupts the kernel. Returns false when that does
   * not reach the kernel (a task an earlier jlab-mcp started): the caller interrupts the session.
   */
  cancel(taskId: string): boolean {
    const abort = this.running.get(taskId);
    const interrupts = abort !== undefined && !this.following.has(taskId);
    if (abort) {
      this.cancelRequested.add(taskId);
      abort.abort(new Error('task cancelled'));
    }
    return interrupts;
  }

  private run(taskId: string, request: ToolsCallRequest, ctx: ServerContext, handler: ToolsCallHandler, following = false): void {
    const abort = new AbortController();
    this.running.set(taskId, abort);
    if (following) this.following.add(taskId);
    const taskCtx = this.taskContext(taskId, ctx, abort.signal);
    const ended = handler(request, taskCtx)
      .then((result) => this.settle(taskId, result as CallToolResult, following))
      .catch((error: unknown) => {
        if (this.cancelRequested.has(taskId)) this.store.cancelled(taskId, 'cancelled; the kernel was interrupted');
        else this.store.fail(taskId, { code: error instanceof ProtocolError ? error.code : -32603, message: messageOf(error) });
      })
      .finally(() => {
        this.running.delete(taskId);
        this.cancelRequested.delete(taskId);
        this.following.delete(taskId);
        this.ended.delete(taskId);
      });
    this.ended.set(taskId, ended);
  }

  private settle(taskId: string, result: CallToolResult, following: boolean): void {
    if (this.cancelRequested.has(taskId)) {
      this.store.cancelled(taskId, `cancelled: ${lastLine(result)}`);
      return;
    }
    const code = errorCode(result);
    // A session that did not survive a restart: the task cannot finish; its message names the resume call.
    if (following && (code === 'SERVER_LOST' || code === 'UNKNOWN_SESSION')) {
      this.store.fail(taskId, { code: -32603, message: textOf(result) });
      return;
    }
    const sessionId = (result.structuredContent as { session_id?: unknown } | undefined)?.session_id;
    if (typeof sessionId === 'string') this.store.setSession(taskId, sessionId);
    this.store.complete(taskId, result);
  }

  /**
   * The request context the tool handler sees: the task's abort signal instead of the request's
   * (the tools/call has already been answered), and a progress token whose notifications become
   * the task's status message — the same text a waiting plain call sends as progress — rather
   * than messages on the wire (the extension sends no progress for tasks).
   */
  private taskContext(taskId: string, ctx: ServerContext, signal: AbortSignal): ServerContext {
    const { progressToken: _progressToken, ...meta } = ctx.mcpReq._meta ?? {};
    const notify = async (notification: { method: string; params?: Record<string, unknown> }) => {
      if (notification.method === 'notifications/progress' && typeof notification.params?.message === 'string')
        this.store.progress(taskId, notification.params.message);
    };
    return { ...ctx, mcpReq: { ...ctx.mcpReq, signal, _meta: { ...meta, progressToken: `task-${taskId}` }, notify } } as ServerContext;
  }
}

function textOf(result: CallToolResult): string {
  return result.content
    .filter((block) => block.type === 'text')
    .map((block) => (block as { text: string }).text)
    .join('\n');
}

/** The closing statement of a result (the cell's footer, or "Cancelled; the kernel was interrupted."). */
function lastLine(result: CallToolResult): string {
  return (
    textOf(result)
      .split('\n')
      .findLast((line) => line.trim() !== '') ?? 'the call ended'
  );
}

function errorCode(result: CallToolResult): string | undefined {
  if (!result.isError) return undefined;
  const code = (result._meta?.[ERROR_META_KEY] as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return /Error \[([A-Z_]+)\]/.exec(textOf(result))?.[1];
}
