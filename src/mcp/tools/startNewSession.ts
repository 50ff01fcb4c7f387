import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { withServerProgress } from '../serverProgress.js';
import { sessionSummary } from './sessionSummary.js';
import { experimentName, nonEmpty, profile } from './schemas.js';
import { sessionSummaryOutput } from './outputSchemas.js';

export function registerStartNewSession(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'start_new_session',
    {
      description: 'Start a kernel and a new notebook that records every cell you run; returns session_id, for every other tool.',
      inputSchema: z.object({
        experiment_name: experimentName,
        kernel_name: nonEmpty().optional().describe("Default: the server's (list_kernels)."),
        profile,
      }),
      outputSchema: sessionSummaryOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ experiment_name, kernel_name, profile: profileName }, requestCtx) => {
      const session = await withServerProgress(requestCtx, ctx.sessions.servers.get(profileName), ctx.progressIntervalMs, () =>
        ctx.sessions.startNew(experiment_name, kernel_name, profileName),
      );
      return jsonResult(sessionSummary(ctx, session));
    }),
  );
}
