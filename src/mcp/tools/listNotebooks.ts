import { realpath } from 'node:fs/promises';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { resolveNotebookSubdir } from '../../notebook/confine.js';
import { listNotebooks } from '../../notebook/notebookListing.js';
import { JlabError } from '../../util/errors.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { unlisted } from './compactListing.js';

export const listNotebooksOutput = z.looseObject({
  notebook_dir: unlisted(z.string()),
  listed: unlisted(z.string()),
  notebooks: z.array(
    z.looseObject({
      path: z.string(),
      size_bytes: z.number(),
      modified: z.string(),
      cells: z.number().nullable(),
      code_cells: z.number().nullable(),
      last_run: z.string().nullable(),
      last_run_from: z.string(),
      open_in: z.array(z.looseObject({ session_id: z.string(), state: z.string() })),
    }),
  ),
  found: unlisted(z.number()),
  truncated: z.boolean(),
  notes: z.array(z.string()).optional(),
});

export function registerListNotebooks(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_notebooks',
    {
      description:
        'Notebooks in the notebook directory, newest first: cells, when a cell last ran, the open session that has each (what to resume or continue).',
      inputSchema: z.object({
        path: z.string().optional().describe('A subdirectory. Default: all.'),
      }),
      outputSchema: listNotebooksOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ path: given }) => {
      await ctx.sessions.ready();
      const notebookDir = ctx.sessions.notebookDir;
      let dir: string;
      try {
        dir = await resolveNotebookSubdir(notebookDir, given);
      } catch (error) {
        // No notebook directory yet: nothing has been written, so there is nothing to list.
        if (error instanceof JlabError && error.code === 'NOTEBOOK_NOT_FOUND' && !given) {
          return jsonResult({
            notebook_dir: notebookDir,
            listed: notebookDir,
            notebooks: [],
            found: 0,
            truncated: false,
            notes: ['the notebook directory does not exist yet'],
          });
        }
        throw error;
      }
      const root = await realpath(notebookDir);
      // Open notebooks' last replies may still be in their journals: fold them in, so the files read are current.
      await Promise.all(ctx.sessions.list().map((session) => session.notebook.flush().catch(() => {})));
      const listing = await listNotebooks(root, dir);
      const open = new Map<string, Array<{ session_id: string; state: string }>>();
      for (const session of ctx.sessions.list()) {
        const real = await realpath(session.notebookPath).catch(() => session.notebookPath);
        const state = session.lost ? 'lost' : session.current ? 'running a cell' : String(session.kernel.status);
        open.set(real, [...(open.get(real) ?? []), { session_id: session.id, state }]);
      }
      const notebooks = await Promise.all(
        listing.notebooks.map(async (entry) => {
          const real = await realpath(`${root}/${entry.path}`).catch(() => `${root}/${entry.path}`);
          return { ...entry, open_in: open.get(real) ?? [] };
        }),
      );
      return jsonResult({
        notebook_dir: notebookDir,
        listed: dir,
        notebooks,
        found: listing.found,
        truncated: listing.truncated,
        ...(listing.notes.length ? { notes: listing.notes } : {}),
      });
    }),
  );
}
