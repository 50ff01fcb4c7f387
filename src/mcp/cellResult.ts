import type { CallToolResult } from '@modelcontextprotocol/server';
import { agentParts, agentValueText, budgetAgentView } from '../output/agentContent.js';
import type { ImageLimits } from '../output/images.js';
import { wellFormed } from '../output/wellFormed.js';
import type { CellTicket } from '../sessions/cellTicket.js';
import type { CellOutcome, Session } from '../sessions/session.js';
import { redactSecrets } from '../util/secrets.js';
import { cellOutputUri } from './cellOutput.js';
import type { CellResultData } from './tools/outputSchemas.js';
import { scratchFinishedReply } from './scratchReply.js';
import { suggestedCall } from './suggestedCall.js';

export interface OutputBudget {
  textBudget: number;
  maxImages: number;
  imageLimits?: ImageLimits;
}

type Content = CallToolResult['content'];

/** A cell as one tool reply: what the agent reads, the same facts as data, and whether it failed. */
export interface CellReply {
  content: Content;
  data: CellResultData;
  isError: boolean;
}

/** Where a scratch run's output is kept, as the budget markers say it. */
const SCRATCH_KEPT_IN = 'no cell (a scratch run is not recorded; run the code as a cell to keep its output)';

/** The session facts a reply names. */
type SessionRef = Pick<Session, 'id' | 'notebookPath'>;

const STATUS_NOTES: Record<string, string> = {
  kernel_died:
    'The kernel died (or was restarted) while running this cell: every variable is lost. Re-run the cells you need (run_cell), or start_session_resume_notebook to replay the whole notebook.',
  aborted: 'The cell was not run because an earlier request failed (aborted).',
};

/** "cell 3 (id a1b2c3d4)": how replies name a cell, so the agent can address it by id. */
export function cellLabel(index: number, id: string): string {
  return `cell ${index} (id ${id})`;
}

/**
 * The part of a ticket's output the agent has not seen yet, within the budget. When the
 * output was rewritten (clear_output, a progress bar) rather than extended, all of it is new.
 * Text the budget cut ends with a link to the cell-output resource that holds all of it.
 */
export async function unseenContent(
  ticket: CellTicket,
  outputs: CellOutcome['outputs'],
  cell: { sessionId: string; index: number; id: string },
  budget: OutputBudget,
): Promise<{ content: Content; truncated: boolean }> {
  const parts = agentParts(outputs);
  const fresh = parts.text.startsWith(ticket.seenText) ? parts.text.slice(ticket.seenText.length) : parts.text;
  const images = parts.images.slice(parts.text.startsWith(ticket.seenText) ? ticket.seenImages : 0);
  ticket.seenText = parts.text;
  ticket.seenImages = parts.images.length;
  if (ticket.scratch) {
    // A scratch run is in no cell: there is no resource to page through, and nothing is kept.
    const view = await budgetAgentView({ text: fresh, images }, { ...budget, cellLabel: 'the scratch run', keptIn: SCRATCH_KEPT_IN });
    return { content: view.content.map((block) => (block.type === 'text' ? { ...block, text: redactSecrets(block.text) } : block)), truncated: view.truncated };
  }
  const uri = cellOutputUri(cell.sessionId, cell.id);
  const view = await budgetAgentView({ text: fresh, images }, { ...budget, cellLabel: `cell ${cell.index}`, fullOutputUri: uri });
  const content: Content = view.content.map((block) => (block.type === 'text' ? { ...block, text: redactSecrets(block.text) } : block));
  if (view.truncated) {
    content.push({
      type: 'resource_link',
      uri,
      name: `cell-${cell.id}-output`,
      title: `Full output of cell ${cell.index} (id ${cell.id})`,
      description: `All ${parts.text.length} characters of the cell's text output, one page per read; ?offset=N starts at character N.`,
      mimeType: 'text/plain',
    });
  }
  return { content, truncated: view.truncated };
}

/**
 * A finished cell as the agent sees it: its (unseen) outputs and one line saying where it landed.
 * `session` adds notes (a move to a new job) and the walltime left (`· job 12: 9 min left`).
 */
export async function finishedReply(
  session: SessionRef,
  ticket: CellTicket,
  outcome: CellOutcome,
  budget: OutputBudget,
  extra: { walltime?: string; notes: string[] } = { notes: [] },
): Promise<CellReply> {
  if (ticket.scratch) return scratchFinishedReply(session, ticket, outcome, budget, extra);
  const label = cellLabel(outcome.cellIndex, outcome.cellId);
  const { content, truncated } = await unseenContent(ticket, outcome.outputs, { sessionId: session.id, index: outcome.cellIndex, id: outcome.cellId }, budget);
  const notes: string[] = [];
  const note =
    outcome.status === 'server_lost'
      ? `The Jupyter server was lost while running this cell. The notebook is saved; go on with ${suggestedCall('start_session_resume_notebook', { notebook_path: session.notebookPath })}.`
      : STATUS_NOTES[outcome.status];
  if (note) notes.push(note);
  notes.push(...extra.notes);
  if (outcome.saveError)
    notes.push(
      `Warning: the notebook could not be saved: ${outcome.saveError} The session keeps this cell and its outputs; the next save that succeeds writes them.`,
    );
  const count = outcome.executionCount === null ? '' : ` · In [${outcome.executionCount}]`;
  appendFooter(content, ticket, notes, `${label}${count}`, outcome, session.id, extra.walltime);
  return {
    content,
    isError: isFailure(outcome),
    data: {
      ...cellData(session, outcome.cellIndex, outcome.cellId, outcome.status),
      execution_count: outcome.executionCount,
      duration_seconds: Math.round(outcome.durationMs) / 1000,
      truncated,
      error: errorOf(outcome.outputs),
      notes: notes.map(redactSecrets),
    },
  };
}

/**
 * Ends a finished run's content: "(no output)" when nothing came, then the notes and the footer
 * `[what · status · 0.12 s · session id · walltime]` in one text block.
 */
export function appendFooter(
  content: CellReply['content'],
  ticket: Pick<CellTicket, 'seenText'>,
  notes: readonly string[],
  what: string,
  outcome: Pick<CellOutcome, 'status' | 'durationMs'>,
  sessionId: string,
  walltime: string | undefined,
): void {
  const footer = `[${what} · ${outcome.status} · ${(outcome.durationMs / 1000).toFixed(2)} s · session ${sessionId}${walltime ? ` · ${walltime}` : ''}]`;
  if (content.length === 0) content.push({ type: 'text', text: ticket.seenText ? '(no new output)' : '(no output)' });
  content.push({ type: 'text', text: [...notes, footer].join('\n') });
}

/** The data of a cell reply before its outputs are known; callers fill in the rest. */
export function cellData(session: SessionRef, index: number | null, id: string | null, status: CellResultData['status']): CellResultData {
  return {
    session_id: session.id,
    cell: { id, index },
    status,
    execution_count: null,
    duration_seconds: null,
    truncated: false,
    output_uri: id === null ? null : cellOutputUri(session.id, id),
    error: null,
    notebook_path: session.notebookPath,
    notes: [],
  };
}

/** A reply that is one plain statement (queued, cancelled, not run). */
export function statementReply(session: SessionRef, status: CellResultData['status'], text: string, cell?: { index: number; id: string }): CellReply {
  return {
    content: [{ type: 'text', text }],
    isError: false,
    data: { ...cellData(session, cell?.index ?? null, cell?.id ?? null, status), notes: [redactSecrets(text)] },
  };
}

/** A reply as a tool result: the content, and the data as structured content (secrets redacted). */
export function toolResult(reply: CellReply): CallToolResult {
  return { content: reply.content, structuredContent: redactedData(reply.data), ...(reply.isError ? { isError: true } : {}) };
}

export function redactedData<T>(value: T): T {
  return JSON.parse(redactSecrets(JSON.stringify(value))) as T;
}

export function isFailure(outcome: Pick<CellOutcome, 'status'>): boolean {
  return outcome.status === 'kernel_died' || outcome.status === 'server_lost';
}

/** The exception a failed cell ended with, as the agent reads it. */
export function errorOf(outputs: CellOutcome['outputs']): CellResultData['error'] {
  const error = outputs.findLast((output) => output.output_type === 'error');
  if (!error) return null;
  return { ename: agentValueText(String(error.ename)), evalue: wellFormed(redactSecrets(agentValueText(String(error.evalue))).slice(0, 500)) };
}
