import type { SessionManager } from '../sessions/sessionManager.js';
import type { OutputBudget } from './cellResult.js';

/** What every tool handler gets: the sessions and the output budget. */
export interface ToolContext {
  sessions: SessionManager;
  budget: OutputBudget;
}
