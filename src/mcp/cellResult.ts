import type { CallToolResult } from '@modelcontextprotocol/server';
import { agentParts, budgetAgentParts } from '../output/agentContent.js';
import type { ImageLimits } from '../output/images.js';
import type { CellTicket } from '../sessions/cellTicket.js';
import type { CellOutcome } from '../sessions/session.js';
import { redactSecrets } from '../util/secrets.js';

export interface OutputBudget {
  textBudget: number;
  maxImages: number;
  imageLimits?: ImageLimits;
}

type Content = CallToolResult['content'];

const STATUS_NOTES: Record<string, string> = {
  kernel_died:
    'The kernel died (or was restarted) while running this cell: every variable is lost. Re-run the cells you need (run_cell), or start_session_resume_notebook to replay the whole notebook.',
  aborted: 'The cell was not run because an earlier request failed (aborted).',
};

/**
 * The part of a ticket's output the agent has not seen yet, within the budget. When the
 * output was rewritten (clear_output, a progress bar) rather than extended, all of it is new.
 */
export function unseenContent(ticket: CellTicket, outputs: CellOutcome['outputs'], label: string, budget: OutputBudget): Content {
  const parts = agentParts(outputs);
  const fresh = parts.text.startsWith(ticket.seenText) ? parts.text.slice(ticket.seenText.length) : parts.text;
  const images = parts.images.slice(parts.text.startsWith(ticket.seenText) ? ticket.seenImages : 0);
  ticket.seenText = parts.text;
  ticket.seenImages = parts.images.length;
  return budgetAgentParts({ text: fresh, images }, { ...budget, cellLabel: label }).map((block) =>
    block.type === 'text' ? { ...block, text: redactSecrets(block.text) } : block,
  );
}

/**
 * A finished cell as the agent sees it: its (unseen) outputs and one line saying where it landed.
 * `session` adds notes (a move to a new job) and the walltime left (`· job 12: 9 min left`).
 */
export function finishedContent(
  sessionId: string,
  notebookPath: string,
  ticket: CellTicket,
  outcome: CellOutcome,
  budget: OutputBudget,
  session: { walltime?: string; notes: string[] } = { notes: [] },
): Content {
  const label = `cell ${outcome.cellIndex}`;
  const content = unseenContent(ticket, outcome.outputs, label, budget);
  const notes: string[] = [];
  const note =
    outcome.status === 'server_lost'
      ? `The Jupyter server was lost while running this cell. The notebook is saved; go on with start_session_resume_notebook(notebook_path="${notebookPath}").`
      : STATUS_NOTES[outcome.status];
  if (note) notes.push(note);
  notes.push(...session.notes);
  if (outcome.saveError) notes.push(`Warning: the notebook could not be saved: ${outcome.saveError} The session keeps this cell and its outputs; the next save that succeeds writes them.`);
  const count = outcome.executionCount === null ? '' : ` · In [${outcome.executionCount}]`;
  const walltime = session.walltime ? ` · ${session.walltime}` : '';
  notes.push(`[${label}${count} · ${outcome.status} · ${(outcome.durationMs / 1000).toFixed(2)} s · session ${sessionId}${walltime}]`);
  if (content.length === 0) content.push({ type: 'text', text: ticket.seenText ? '(no new output)' : '(no output)' });
  content.push({ type: 'text', text: notes.join('\n') });
  return content;
}

export function isFailure(outcome: CellOutcome): boolean {
  return outcome.status === 'kernel_died' || outcome.status === 'server_lost';
}
