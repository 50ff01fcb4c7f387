import type { SessionManager } from '../sessions/sessionManager.js';
import type { SweepManager } from '../sweeps/sweepManager.js';
import type { OutputBudget } from './cellResult.js';

/** What every tool handler gets: the sessions, the output budget and the waiting rules. */
export interface ToolContext {
  sessions: SessionManager;
  /** Notebook sweeps (start_sweep and the other sweep tools). */
  sweeps: SweepManager;
  budget: OutputBudget;
  /** Default wait of a call that runs a cell before it returns partial output, in ms. */
  execTimeoutMs: number;
  /** Interval of MCP progress notifications while a call waits, in ms. */
  progressIntervalMs: number;
  /** Default cell_timeout of a resume's replay, in ms. */
  resumeCellTimeoutMs: number;
}

/** Timeout (from the call, else the setting), budget and progress interval for a waiting call. */
export function waitOptions(ctx: ToolContext, timeoutSeconds: number | undefined) {
  return {
    timeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : ctx.execTimeoutMs,
    budget: ctx.budget,
    progressIntervalMs: ctx.progressIntervalMs,
  };
}
