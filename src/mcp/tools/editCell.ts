import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { awaitTicket } from '../cellWaiter.js';
import { waitOptions, type ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { cellRefOf } from './cellArgs.js';
import { cellResultOutput } from './outputSchemas.js';
import { cellId, cellIndex, code, sessionId, timeout } from './schemas.js';

export function registerEditCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'edit_cell',
    {
      title: 'Edit and re-run a code cell',
      description:
        "Replace a code cell's source, re-run it in the current kernel and replace its outputs. Name the cell by cell_id (stable) or cell_index (negative counts from the end, -1 = last cell); it is checked before anything runs.",
      inputSchema: z.object({ session_id: sessionId, timeout: timeout(ctx), cell_index: cellIndex, cell_id: cellId, code }),
      outputSchema: cellResultOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index, cell_id, code: source, timeout: timeoutSeconds }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      const ticket = session.editCell(cellRefOf({ cell_index, cell_id }), source);
      return awaitTicket(session, ticket, { ...waitOptions(ctx, timeoutSeconds), ctx: requestCtx, interruptOnCancel: true });
    }),
  );
}
