import type { CallToolResult } from '@modelcontextprotocol/server';
import type { TaskRecord } from './taskRecord.js';

/** The extension's id (protocol 2026-07-28; Claude Code looks for it). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
const CLIENT_CAPABILITIES_META = 'io.modelcontextprotocol/clientCapabilities';
const RELATED_TASK_META = 'io.modelcontextprotocol/related-task';

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/**
 * How this tools/call asks for a task, if it does: the extension in the request's own client
 * capabilities (v2 — the SDK lifts the 2026 envelope into `envelope`, a 2025 session leaves it
 * in `_meta`), or the 2025-11-25 `params.task` (v1, with its requested `ttl`).
 */
export function taskOptIn(params: Json | undefined, envelope: Json | undefined): { generation: 'v1' | 'v2'; ttlMs?: number } | undefined {
  for (const meta of [envelope, asObject(params?._meta)]) {
    const extensions = asObject(asObject(meta?.[CLIENT_CAPABILITIES_META])?.extensions);
    if (extensions && asObject(extensions[TASKS_EXTENSION])) return { generation: 'v2' };
  }
  const task = asObject(params?.task);
  if (task) return { generation: 'v1', ttlMs: typeof task.ttl === 'number' && task.ttl > 0 ? task.ttl : undefined };
  return undefined;
}

/** The fields every task answer shares, in the record's own generation. */
function taskFields(record: TaskRecord): Json {
  const common = {
    taskId: record.taskId,
    status: record.status,
    ...(record.statusMessage !== undefined && { statusMessage: record.statusMessage }),
    createdAt: record.createdAt,
    lastUpdatedAt: record.lastUpdatedAt,
  };
  return record.generation === 'v2'
    ? { ...common, ttlMs: record.ttlMs, pollIntervalMs: record.pollIntervalMs }
    : { ...common, ttl: record.ttlMs, pollInterval: record.pollIntervalMs };
}

/** The answer to the tools/call that created the task. */
export function createTaskResult(record: TaskRecord): Json {
  return record.generation === 'v2' ? { resultType: 'task', ...taskFields(record) } : { task: taskFields(record) };
}

/** The answer to tasks/get: v2 inlines the result or error of a finished task; v1 leaves that to tasks/result. */
export function getTaskResult(record: TaskRecord): Json {
  if (record.generation === 'v1') return taskFields(record);
  return {
    resultType: 'complete',
    ...taskFields(record),
    // The inner result is what the plain call answers on this protocol revision, discriminator included.
    ...(record.status === 'completed' && record.result && { result: { resultType: 'complete', ...record.result } }),
    ...(record.status === 'failed' && record.error && { error: record.error }),
  };
}

/** v1's tasks/result: the tool result itself, tied to its task. */
export function taskPayload(record: TaskRecord): CallToolResult {
  const result = record.result ?? { content: [{ type: 'text', text: record.statusMessage ?? `task ${record.status}` }], isError: true };
  return { ...result, _meta: { ...result._meta, [RELATED_TASK_META]: { taskId: record.taskId } } };
}
