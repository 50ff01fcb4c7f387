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
      description: 'Copy a notebook to <name>_continued.ipynb (ids kept) on a fresh kernel; nothing is re-run.',
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
