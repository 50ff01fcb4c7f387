import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { awaitReplay } from '../replayWaiter.js';
import { guarded, jsonResult } from '../results.js';
import { withServerProgress } from '../serverProgress.js';
import { cellTimeout, experimentLabel, notebookPath, profile, stopOnError, timeout } from './schemas.js';
import { notebookStem, sessionSummary } from './sessionSummary.js';
import { resumeOutput } from './outputSchemas.js';

export function registerStartSessionResumeNotebook(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'start_session_resume_notebook',
    {
      description:
        "Start a fresh kernel that re-runs a notebook's code cells in order, outputs updated in place; returns the cells that failed. Past timeout the replay goes on (wait_for_cell follows it). Cancelling stops it.",
      inputSchema: z.object({
        experiment_name: experimentLabel,
        notebook_path: notebookPath,
        profile,
        timeout: timeout(ctx),
        cell_timeout: cellTimeout(ctx),
        stop_on_error: stopOnError,
      }),
      outputSchema: resumeOutput,
      // Destructive: every code cell's outputs in the file are replaced by the new run's.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ experiment_name, notebook_path, profile: profileName, timeout: timeoutSeconds, cell_timeout, stop_on_error }, requestCtx) => {
      const { session, replay } = await withServerProgress(requestCtx, ctx.sessions.servers.get(profileName), ctx.progressIntervalMs, () =>
        ctx.sessions.resume(experiment_name ?? notebookStem(notebook_path), notebook_path, profileName, {
          cellTimeoutMs: cell_timeout !== undefined ? cell_timeout * 1000 : ctx.resumeCellTimeoutMs,
          stopOnError: stop_on_error ?? false,
        }),
      );
      const progress = await awaitReplay(session, replay, {
        timeoutMs: timeoutSeconds !== undefined ? timeoutSeconds * 1000 : ctx.execTimeoutMs,
        ctx: requestCtx,
        cancelOnAbort: true,
        progressIntervalMs: ctx.progressIntervalMs,
      });
      return jsonResult({ ...sessionSummary(ctx, session), ...progress });
    }),
  );
}
