import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { sweepOutput, sweepReply } from './sweepReply.js';
import { sweepId } from './sweepStatus.js';

export function registerCancelSweep(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'cancel_sweep',
    {
      description:
        'Cancel the runs of a sweep that have not ended (or only run_indices): pending runs never start, running ones stop and keep the cells that ran.',
      inputSchema: z.object({
        sweep_id: sweepId,
        run_indices: z.array(z.number().int().min(0)).min(1).optional().describe('Runs to cancel (default: all).'),
      }),
      outputSchema: sweepOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ sweep_id, run_indices }) => sweepReply(await ctx.sweeps.cancel(sweep_id, run_indices), ctx.budget, { plot: false })),
  );
}
