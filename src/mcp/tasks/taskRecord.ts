import type { CallToolResult } from '@modelcontextprotocol/server';

/** Which wire shape created the task: the 2025-11-25 core tasks (v1) or the 2026-07-28 extension (v2). */
export type TaskGeneration = 'v1' | 'v2';

export type TaskStatus = 'working' | 'completed' | 'failed' | 'cancelled';

/**
 * One task: a tool call that answered with a handle and goes on in the background. Kept in
 * the session registry (src/state/) so its id stays valid across a jlab-mcp restart; no token
 * or secret is ever part of it (results pass through the same redaction as plain results).
 */
export interface TaskRecord {
  taskId: string;
  generation: TaskGeneration;
  toolName: string;
  /** The session the call works in (from its arguments, or the one a start returned). */
  sessionId?: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  /** Kept this long after creation, in ms; then forgotten. */
  ttlMs: number;
  pollIntervalMs: number;
  /** The tool result, once completed: what the plain call would have returned. */
  result?: CallToolResult;
  /** The JSON-RPC error, once failed. */
  error?: { code: number; message: string };
}

export function isTerminal(status: TaskStatus): boolean {
  return status !== 'working';
}
