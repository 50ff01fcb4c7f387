import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { sweepOutput, sweepReply } from './sweepReply.js';
import { sweepId } from './sweepStatus.js';

export function registerRerunSweep(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'rerun_sweep',
    {
      description:
        'Run some runs of a sweep again as a new attempt: same notebooks (rewritten), same results table. only: "failed" (failed and timed-out runs), "all", or a list of run indices.',
      inputSchema: z.object({
        sweep_id: sweepId,
        only: z.union([z.enum(['failed', 'all']), z.array(z.number().int().min(0)).min(1)]).describe('"failed", "all" or run indices.'),
      }),
      outputSchema: sweepOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ sweep_id, only }) => sweepReply(await ctx.sweeps.rerun(sweep_id, only), ctx.budget, { plot: false })),
  );
}
