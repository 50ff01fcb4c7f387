import { ProtocolError, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { sleep } from '../../util/deadline.js';
import type { ToolContext } from '../context.js';
import { installToolsCallHook, markTaskSupport, type ToolsCallHandler, type ToolsCallRequest } from './sdkHooks.js';
import { isTerminal, type TaskRecord } from './taskRecord.js';
import type { TaskRunner } from './taskRunner.js';
import { createTaskResult, getTaskResult, TASKS_EXTENSION, taskOptIn, taskPayload } from './wire.js';

/** Tools that may answer with a task; the starts only when they would wait for a SLURM job. */
const CELL_TOOLS = ['execute_code', 'run_cell', 'edit_cell', 'start_session_resume_notebook', 'start_sweep'] as const;
const START_TOOLS = ['start_new_session', 'start_session_continue_notebook'] as const;
const INVALID_PARAMS = -32602;
const MISSING_CAPABILITY = -32021;
/** How long a 2025-11-25 tasks/cancel waits for the cancelled cell to end before it answers, in ms. */
const V1_CANCEL_WAIT_MS = 6000;
const taskIdParams = z.object({ taskId: z.string().min(1) }).passthrough();

/**
 * Serves long work as MCP tasks on this server: advertises both shapes (the 2026-07-28
 * `io.modelcontextprotocol/tasks` extension, and 2025-11-25's `tasks` capability), turns an
 * opted-in tools/call of a taskable tool into a task, and answers tasks/get, tasks/cancel,
 * tasks/update (v2) and tasks/result, tasks/list (v1). A call that does not opt in runs
 * exactly as before. Call after the tools are registered and before connecting.
 */
export function enableTasks(server: McpServer, ctx: ToolContext, runner: TaskRunner): void {
  server.server.registerCapabilities({
    tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
    extensions: { [TASKS_EXTENSION]: {} },
  } as Parameters<typeof server.server.registerCapabilities>[0]);
  markTaskSupport(server, [...CELL_TOOLS, ...START_TOOLS]);
  let toolsCall: ToolsCallHandler | undefined;
  installToolsCallHook(server, (original) => {
    toolsCall = original;
    return async (request, requestCtx) => {
      const optIn = taskOptIn(request.params, requestCtx.mcpReq.envelope as Record<string, unknown> | undefined);
      if (!optIn || !taskable(ctx, request)) return original(request, requestCtx);
      const record = runner.start(request, requestCtx, optIn.generation, optIn.ttlMs, original);
      // The extension lets the server decide per call: work that ends within one poll interval
      // is answered as the plain call would be, so a quick cell never costs the agent a poll.
      // (2025-11-25 clients asked for a task with params.task; they always get one.)
      if (optIn.generation === 'v2' && (await runner.endsWithin(record.taskId, record.pollIntervalMs, requestCtx.mcpReq.signal))) {
        runner.store.discard(record.taskId);
        if (record.status === 'failed' && record.error) throw new ProtocolError(record.error.code, record.error.message);
        if (record.result) return record.result;
      }
      // Cancelling the call before it was answered cancels the work: nobody will know the task id.
      if (requestCtx.mcpReq.signal.aborted) runner.cancel(record.taskId);
      // Durably created before the handle is returned (the registry write is queued now).
      runner.store.publish(record.taskId);
      return createTaskResult(record);
    };
  });
  const find = (taskId: string, requestCtx: ServerContext): TaskRecord => {
    requireExtension(requestCtx);
    const record = runner.store.get(taskId);
    if (!record) throw new ProtocolError(INVALID_PARAMS, `Failed to retrieve task: task ${taskId} not found (unknown, or past its TTL)`);
    // A task an earlier jlab-mcp left working is followed through its reattached session from the first poll on.
    if (record.status === 'working' && !runner.isRunning(taskId) && toolsCall) runner.follow(record, requestCtx, toolsCall);
    return record;
  };
  const handle = (method: string, handler: (taskId: string, requestCtx: ServerContext) => Promise<Record<string, unknown>> | Record<string, unknown>) =>
    server.server.setRequestHandler(method as 'tasks/get', { params: taskIdParams }, ((params: { taskId: string }, requestCtx: ServerContext) =>
      handler(params.taskId, requestCtx)) as never);

  handle('tasks/get', (taskId, requestCtx) => getTaskResult(find(taskId, requestCtx)));
  handle('tasks/cancel', async (taskId, requestCtx) => {
    const record = find(taskId, requestCtx);
    // 2025-11-25: cancelling a finished task is an error; the extension only asks for an acknowledgement.
    if (isTerminal(record.status) && record.generation === 'v1') throw new ProtocolError(INVALID_PARAMS, `Cannot cancel task: already ${record.status}`);
    if (!isTerminal(record.status) && !runner.cancel(taskId) && record.sessionId && toolsCall) {
      // Left by an earlier jlab-mcp: interrupt the session's cell directly.
      await toolsCall({ method: 'tools/call', params: { name: 'interrupt_kernel', arguments: { session_id: record.sessionId } } }, requestCtx);
    }
    if (record.generation === 'v2') return {};
    // 2025-11-25 answers with the task: give the interrupt a moment to land, so it reads cancelled.
    for (const deadline = Date.now() + V1_CANCEL_WAIT_MS; !isTerminal(record.status) && Date.now() < deadline; ) await sleep(100, requestCtx.mcpReq.signal);
    return getTaskResult(record);
  });
  // v2: this server never asks for input, so there is never an outstanding request to answer.
  handle('tasks/update', (taskId, requestCtx) => {
    find(taskId, requestCtx);
    return {};
  });
  // v1: the result blocks until the task is terminal (2025-11-25 tasks/result).
  handle('tasks/result', async (taskId, requestCtx) => {
    let record = find(taskId, requestCtx);
    // Bounded by the task's own end (its wait is a day at most) and by cancelling this request.
    while (!isTerminal(record.status)) {
      await sleep(Math.min(record.pollIntervalMs, 1000), requestCtx.mcpReq.signal);
      record = find(taskId, requestCtx);
    }
    return taskPayload(record) as Record<string, unknown>;
  });
  server.server.setRequestHandler('tasks/list' as 'tasks/get', { params: z.object({ cursor: z.string().optional() }).passthrough() }, (() => ({
    tasks: runner.store
      .list()
      .filter((record) => record.generation === 'v1')
      .map((record) => getTaskResult(record)),
  })) as never);
}

/** On protocol 2026-07-28 a client must declare the extension to use tasks/* (the spec's -32021). */
function requireExtension(requestCtx: ServerContext): void {
  const envelope = requestCtx.mcpReq.envelope as Record<string, unknown> | undefined;
  if (!envelope || taskOptIn(undefined, envelope)) return;
  throw new ProtocolError(MISSING_CAPABILITY, 'Missing required client capability', { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
}

/** Cell-running tools always; a start only when its profile runs on SLURM and its job is not up yet (it may queue). */
function taskable(ctx: ToolContext, request: ToolsCallRequest): boolean {
  const name = request.params.name;
  if ((CELL_TOOLS as readonly string[]).includes(name)) return true;
  if (!(START_TOOLS as readonly string[]).includes(name)) return false;
  const profile = request.params.arguments?.profile;
  try {
    const supervisor = ctx.sessions.servers.get(typeof profile === 'string' ? profile : undefined);
    return supervisor.backend.kind === 'slurm' && supervisor.describe().state !== 'ready';
  } catch {
    return false;
  }
}
