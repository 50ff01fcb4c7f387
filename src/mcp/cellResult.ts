import type { CallToolResult } from '@modelcontextprotocol/server';
import { toAgentContent } from '../output/agentContent.js';
import type { CellOutcome } from '../sessions/session.js';
import { redactSecrets } from '../util/secrets.js';

export interface OutputBudget {
  textBudget: number;
  maxImages: number;
}

const STATUS_NOTES: Record<string, string> = {
  kernel_died:
    'The kernel died while running this cell and the server restarted it: every variable is lost. Re-run the cells you need (run_cell), or start_session_resume_notebook to replay the whole notebook.',
  server_lost: 'The Jupyter server was lost while running this cell. The notebook is saved; start_session_resume_notebook with its path to go on.',
  aborted: 'The cell was not run because an earlier request failed (aborted).',
};

/** A ran cell as the agent sees it: its outputs (budgeted) and one line saying where it landed. */
export function cellResult(sessionId: string, outcome: CellOutcome, budget: OutputBudget): CallToolResult {
  const label = `cell ${outcome.cellIndex}`;
  const content: CallToolResult['content'] = toAgentContent(outcome.outputs, { ...budget, cellLabel: label }).map((block) =>
    block.type === 'text' ? { ...block, text: redactSecrets(block.text) } : block,
  );
  const notes: string[] = [];
  const note = STATUS_NOTES[outcome.status];
  if (note) notes.push(note);
  if (outcome.saveError) notes.push(`Warning: the notebook could not be saved: ${outcome.saveError}`);
  const count = outcome.executionCount === null ? '' : ` · In [${outcome.executionCount}]`;
  notes.push(`[${label}${count} · ${outcome.status} · ${(outcome.durationMs / 1000).toFixed(2)} s · session ${sessionId}]`);
  if (content.length === 0) content.push({ type: 'text', text: '(no output)' });
  content.push({ type: 'text', text: notes.join('\n') });
  return { content, isError: outcome.status === 'kernel_died' || outcome.status === 'server_lost' };
}
