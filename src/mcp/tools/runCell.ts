import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { awaitTicket } from '../cellWaiter.js';
import { waitOptions, type ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { cellRefOf } from './cellArgs.js';
import { cellResultOutput } from './outputSchemas.js';
import { cellId, cellIndex, sessionId, timeout } from './schemas.js';

export function registerRunCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'run_cell',
    {
      description: 'Re-run a code cell as it is, as execute_code.',
      inputSchema: z.object({ session_id: sessionId, timeout: timeout(ctx), cell_index: cellIndex, cell_id: cellId }),
      outputSchema: cellResultOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index, cell_id, timeout: timeoutSeconds }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      const ticket = session.runCell(cellRefOf({ cell_index, cell_id }));
      return awaitTicket(session, ticket, { ...waitOptions(ctx, timeoutSeconds), ctx: requestCtx, interruptOnCancel: true });
    }),
  );
}
