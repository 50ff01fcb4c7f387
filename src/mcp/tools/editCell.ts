import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { awaitTicket } from '../cellWaiter.js';
import { waitOptions, type ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { cellIndex, code, sessionId, timeout } from './schemas.js';

export function registerEditCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'edit_cell',
    {
      title: 'Edit and re-run a code cell',
      description:
        "Replace a code cell's source, re-run it in the current kernel and replace its outputs. cell_index may be negative (-1 = last cell); it is checked before anything runs.",
      inputSchema: z.object({ session_id: sessionId, timeout, cell_index: cellIndex, code }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index, code: source, timeout: timeoutSeconds }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      const ticket = session.editCell(cell_index, source);
      return awaitTicket(session, ticket, { ...waitOptions(ctx, timeoutSeconds), ctx: requestCtx, interruptOnCancel: true });
    }),
  );
}
