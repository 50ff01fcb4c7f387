import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sessionId } from './schemas.js';
import { restartOutput } from './outputSchemas.js';

export function registerRestartKernel(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'restart_kernel',
    {
      description: 'Restart the kernel: variables cleared, running and queued cells stopped; the notebook and session stay.',
      inputSchema: z.object({ session_id: sessionId }),
      outputSchema: restartOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id }) => {
      const session = await ctx.sessions.use(session_id);
      const { running, dropped } = await session.restart();
      return jsonResult({
        session_id: session.id,
        stopped: running?.run && !running.scratch ? { id: running.run.cell.id, index: running.run.cellIndex } : null,
        dropped_queued_cells: dropped,
        message: 'Kernel restarted; its state is empty. Re-run the cells you need (run_cell) or execute new code.',
      });
    }),
  );
}
