import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sessionId } from './schemas.js';

export function registerInterruptKernel(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'interrupt_kernel',
    {
      title: 'Interrupt the kernel',
      description:
        'Interrupt the running cell (KeyboardInterrupt in Python; it is recorded in the notebook) and drop cells queued behind it. Kernel state is kept. Use wait_for_cell to read how the cell ended.',
      inputSchema: z.object({ session_id: sessionId }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id }) => {
      const session = await ctx.sessions.use(session_id);
      const { running, dropped } = await session.interrupt();
      return jsonResult({
        session_id: session.id,
        interrupted_cell: running?.run?.cellIndex ?? null,
        dropped_queued_cells: dropped,
        message: running ? `Interrupt sent to cell ${running.run?.cellIndex}.` : 'Interrupt sent; no cell was running.',
      });
    }),
  );
}
