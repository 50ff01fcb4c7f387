import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { InterruptState } from '../../sessions/session.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sessionId } from './schemas.js';
import { interruptOutput } from './outputSchemas.js';
import { scratchInterruptMessage } from '../scratchReply.js';
import { suggestedCall } from '../suggestedCall.js';

export function registerInterruptKernel(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'interrupt_kernel',
    {
      description:
        'KeyboardInterrupt to the running cell; queued cells and a replay are dropped, variables kept. If the cell ignores it, force=true restarts the kernel.',
      inputSchema: z.object({
        session_id: sessionId,
        force: z.boolean().optional().describe('Default false: only report a cell that ignores it.'),
      }),
      outputSchema: interruptOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, force }) => {
      const session = await ctx.sessions.use(session_id);
      const { running, dropped, state } = await session.interrupt({ force });
      const cell = running?.run?.cellIndex ?? null;
      return jsonResult({
        session_id: session.id,
        interrupted: running?.run && !running.scratch ? { id: running.run.cell.id, index: running.run.cellIndex } : null,
        dropped_queued_cells: dropped,
        state,
        message: running?.scratch ? scratchInterruptMessage(state, session.id) : MESSAGES[state](cell, session.id),
      });
    }),
  );
}

const MESSAGES: Record<InterruptState, (cell: number | null, sessionId: string) => string> = {
  idle: () => 'Interrupt sent; no cell was running.',
  stopped: (cell) => `Cell ${cell} stopped (KeyboardInterrupt recorded). Kernel state is kept.`,
  still_busy: (cell, sessionId) =>
    `Cell ${cell} is still running: it ignored the interrupt (a debugger, C code, or code that catches KeyboardInterrupt). Call ${suggestedCall('interrupt_kernel', { session_id: sessionId, force: true })} to restart the kernel (its variables are lost; the notebook keeps its cells), or ${suggestedCall('wait_for_cell', { session_id: sessionId })} if it may finish.`,
  restarted: (cell) =>
    `Cell ${cell} ignored the interrupt, so the kernel was restarted: its variables are lost, the notebook keeps its cells (the cell is recorded as killed). Re-run what you need.`,
};
