import { realpath } from 'node:fs/promises';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { resolveNotebookPath } from '../../notebook/confine.js';
import { NotebookDocument } from '../../notebook/document.js';
import { viewCells } from '../../notebook/notebookView.js';
import { JlabError } from '../../util/errors.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { unlisted } from './compactListing.js';
import { nonEmpty } from './schemas.js';

/** Cells per call unless `limit` says otherwise, and the most one call returns. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export const readNotebookOutput = z.looseObject({
  notebook_path: unlisted(z.string()),
  /** The session whose notebook this is; null when read from the file alone. */
  session_id: unlisted(z.string().nullable()),
  cell_count: unlisted(z.number().int()),
  start: unlisted(z.number().int()),
  next_start: z.number().int().nullable(),
  cells: z.array(
    z.looseObject({
      index: z.number().int(),
      id: z.string(),
      cell_type: z.string(),
      source: z.string(),
      source_chars: z.number().int(),
      source_truncated: z.boolean(),
      execution_count: z.number().int().nullable(),
      running: z.boolean(),
      output_count: z.number().int(),
      outputs: z.array(z.string()),
    }),
  ),
  /** Edits someone else made to the file, merged just now (conflicts included). */
  notes: z.array(z.string()),
});

export function registerReadNotebook(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'read_notebook',
    {
      description:
        "The notebook now, some cells at a time, one line per output; a person's edits are merged first and listed in notes. Give session_id or notebook_path.",
      inputSchema: z.object({
        session_id: nonEmpty().optional(),
        notebook_path: nonEmpty().optional().describe('In the notebook directory.'),
        start: z.number().int().optional().describe('Negative from the end. Default 0.'),
        limit: z.number().int().min(1).max(MAX_LIMIT).optional().describe(`Default ${DEFAULT_LIMIT}; fewer past the output budget (next_start goes on).`),
      }),
      outputSchema: readNotebookOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, notebook_path, start, limit }) => {
      if ((session_id === undefined) === (notebook_path === undefined)) {
        throw new JlabError('INVALID_ARGUMENT', 'read_notebook needs session_id or notebook_path (one of them).', {
          hint: 'Pass the session_id of an open session (list_sessions), or a notebook_path inside the notebook directory (list_notebooks).',
        });
      }
      await ctx.sessions.ready();
      const session =
        session_id !== undefined ? ctx.sessions.get(session_id) : await sessionWith(ctx, await resolveNotebookPath(ctx.sessions.notebookDir, notebook_path!));
      let document: NotebookDocument;
      const notes: string[] = [];
      if (session) {
        document = session.notebook;
        await document.refresh();
        notes.push(...document.takeDiskNotes());
      } else {
        document = await NotebookDocument.load(await resolveNotebookPath(ctx.sessions.notebookDir, notebook_path!));
      }
      const view = viewCells(document.cells, start ?? 0, limit ?? DEFAULT_LIMIT, ctx.budget.textBudget);
      return jsonResult({ notebook_path: document.path, session_id: session?.id ?? null, ...view, notes } satisfies z.input<typeof readNotebookOutput>);
    }),
  );
}

/** The open session whose notebook is the file at `real`, if any. */
async function sessionWith(ctx: ToolContext, real: string) {
  for (const session of ctx.sessions.list()) {
    if ((await realpath(session.notebookPath).catch(() => session.notebookPath)) === real) return session;
  }
  return undefined;
}
