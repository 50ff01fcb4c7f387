import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { sweepOutput, sweepReply } from './sweepReply.js';

export const sweepId = z.string().min(1).describe('Sweep id from start_sweep or list_sweeps.');

export function registerSweepStatus(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'sweep_status',
    {
      title: 'Sweep status',
      description:
        "A sweep's runs: state (pending, running, completed, failed, cancelled, timeout), duration, node, SLURM array task id, first error line, recorded values; counts per state; the results table (a link to results.csv when it is long) and, when a numeric value was recorded, a plot of it against the parameter that varies most.",
      inputSchema: z.object({ sweep_id: sweepId }),
      outputSchema: sweepOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async ({ sweep_id }) => sweepReply(await ctx.sweeps.status(sweep_id), ctx.budget)),
  );
}
