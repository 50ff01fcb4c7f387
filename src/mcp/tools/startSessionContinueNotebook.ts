import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { withServerProgress } from '../serverProgress.js';
import { experimentLabel, notebookPath, profile } from './schemas.js';
import { notebookStem, sessionSummary } from './sessionSummary.js';
import { continueOutput } from './outputSchemas.js';

export function registerStartSessionContinueNotebook(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'start_session_continue_notebook',
    {
      title: 'Continue a notebook (fork)',
      description:
        'Copy an existing notebook to a new file (<name>_continued.ipynb; the original is never changed) and start a fresh kernel for it. Nothing is re-run: the kernel starts empty. New cells go into the copy; cell ids are kept, so ids from the original name the same cells in the copy.',
      inputSchema: z.object({ experiment_name: experimentLabel, notebook_path: notebookPath, profile }),
      outputSchema: continueOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ experiment_name, notebook_path, profile: profileName }, requestCtx) => {
      const { session, original } = await withServerProgress(requestCtx, ctx.sessions.servers.get(profileName), ctx.progressIntervalMs, () =>
        ctx.sessions.continueFrom(experiment_name ?? notebookStem(notebook_path), notebook_path, profileName),
      );
      return jsonResult({ ...sessionSummary(ctx, session), original_notebook: original });
    }),
  );
}
