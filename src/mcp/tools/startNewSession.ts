import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { withServerProgress } from '../serverProgress.js';
import { sessionSummary } from './sessionSummary.js';
import { experimentName, profile } from './schemas.js';
import { sessionSummaryOutput } from './outputSchemas.js';

export function registerStartNewSession(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'start_new_session',
    {
      title: 'Start a new session',
      description:
        'Start a new kernel and create a new notebook for it. Every cell you run with execute_code is recorded in that notebook. Returns session_id (pass it to every other tool) and notebook_path.',
      inputSchema: z.object({
        experiment_name: experimentName,
        kernel_name: z.string().min(1).optional().describe('Kernelspec name, e.g. python3, ir, julia-1.10 (see list_kernels). Default: the server default.'),
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
