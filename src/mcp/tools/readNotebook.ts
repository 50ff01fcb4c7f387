import { realpath } from 'node:fs/promises';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { resolveNotebookPath } from '../../notebook/confine.js';
import { NotebookDocument } from '../../notebook/document.js';
import { viewCells } from '../../notebook/notebookView.js';
import { JlabError } from '../../util/errors.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';

/** Cells per call unless `limit` says otherwise, and the most one call returns. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export const readNotebookOutput = z.looseObject({
  notebook_path: z.string(),
  /** The session whose notebook this is; null when read from the file alone. */
  session_id: z.string().nullable(),
  cell_count: z.number().int(),
  start: z.number().int(),
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
      title: 'Read the notebook',
      description:
        "The notebook as it is now, a range of cells at a time: each cell's index, id, type, source, execution count, whether it is running, and a one-line summary per output. A person may edit the notebook while you work (JupyterLab, an editor): their changes are merged in first and listed in notes, so call this to see what they changed. Give session_id, or notebook_path to read any notebook in the notebook directory.",
      inputSchema: z.object({
        session_id: z.string().min(1).optional().describe('Session whose notebook to read (its edits by others are merged in first).'),
        notebook_path: z
          .string()
          .min(1)
          .optional()
          .describe("Or a notebook inside the notebook directory (relative to it); an open session's notebook is read through that session."),
        start: z.number().int().optional().describe('First cell, 0-based; negative counts from the end (-5: the last five). Default 0.'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(MAX_LIMIT)
          .optional()
          .describe(`Cells at most (default ${DEFAULT_LIMIT}); fewer when the output budget is reached — next_start says where to go on.`),
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
