import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sweepSummary } from './sweepReply.js';

export function registerListSweeps(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_sweeps',
    {
      description: 'Every sweep this jlab-mcp knows (also from before a restart): id, notebook, folder, runs and counts per state.',
      inputSchema: z.object({}),
      outputSchema: z.object({ sweeps: z.array(z.looseObject({ sweep_id: z.string() })) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async () => jsonResult({ sweeps: ctx.sweeps.list().map(sweepSummary) })),
  );
}
