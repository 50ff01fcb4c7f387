import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { awaitTicket } from '../cellWaiter.js';
import { waitOptions, type ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { code, insertIndex, sessionId, timeout } from './schemas.js';

export function registerExecuteCode(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'execute_code',
    {
      title: 'Run code',
      description:
        "Run code in the session's kernel. The code becomes a new notebook cell (appended, or inserted at cell_index) and its outputs are recorded. Returns text output, images and errors (ename: evalue + traceback). If the cell runs longer than timeout, you get the output so far and the cell keeps running: call wait_for_cell for the rest. A call made while another cell runs is queued behind it. Cancelling the request interrupts the kernel.",
      inputSchema: z.object({ session_id: sessionId, timeout, code, cell_index: insertIndex }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, code: source, cell_index, timeout: timeoutSeconds }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      const ticket = session.executeCode(source, cell_index);
      return awaitTicket(session, ticket, { ...waitOptions(ctx, timeoutSeconds), ctx: requestCtx, interruptOnCancel: true });
    }),
  );
}
