import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { withServerProgress } from '../serverProgress.js';
import { experimentName, notebookPath, profile } from './schemas.js';
import { sessionSummary } from './sessionSummary.js';

export function registerStartSessionResumeNotebook(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'start_session_resume_notebook',
    {
      title: 'Resume a notebook',
      description:
        'Start a fresh kernel on an existing notebook and re-run every code cell in order to restore its state; outputs are updated in place in the same file. Returns the session and the cells that raised errors.',
      inputSchema: z.object({ experiment_name: experimentName, notebook_path: notebookPath, profile }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ experiment_name, notebook_path, profile: profileName }, requestCtx) => {
      const { session, outcomes } = await withServerProgress(requestCtx, ctx.sessions.servers.get(profileName), ctx.progressIntervalMs, () => ctx.sessions.resume(experiment_name, notebook_path, profileName));
      const errors = outcomes
        .filter((outcome) => outcome.status !== 'ok')
        .map((outcome) => {
          const error = outcome.outputs.find((output) => output.output_type === 'error');
          return {
            cell_index: outcome.cellIndex,
            status: outcome.status,
            ename: error ? String(error.ename) : undefined,
            evalue: error ? String(error.evalue) : undefined,
          };
        });
      return jsonResult({
        ...sessionSummary(ctx, session),
        cells_run: outcomes.length,
        restored_with_errors: errors.length ? errors : null,
      });
    }),
  );
}
