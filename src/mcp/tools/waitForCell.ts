import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { awaitTicketReply, finalReply } from '../cellWaiter.js';
import { redactedData, type CellReply } from '../cellResult.js';
import { waitOptions, type ToolContext } from '../context.js';
import { awaitReplay } from '../replayWaiter.js';
import { guarded, jsonResult } from '../results.js';
import { waitForCellOutput } from './outputSchemas.js';
import { sessionId, timeout } from './schemas.js';

export function registerWaitForCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'wait_for_cell',
    {
      description:
        "The new output of the cell running in the background, and its status once it ends; cells that finished meanwhile come first, each result once. Follows a resume's replay. Cancelling does not stop the cell.",
      inputSchema: z.object({ session_id: sessionId, timeout: timeout(ctx) }),
      outputSchema: waitForCellOutput,
      // Not read-only: it consumes what it returns (output since the last look, results delivered once).
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, timeout: timeoutSeconds }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      const options = waitOptions(ctx, timeoutSeconds);
      const replay = session.replay;
      if (replay && !replay.delivered) {
        return jsonResult({
          session_id: session.id,
          cells: [],
          ...(await awaitReplay(session, replay, { ...options, ctx: requestCtx, cancelOnAbort: false })),
        });
      }
      // Cells that finished while nobody was looking come first, in the order they ran.
      const replies: CellReply[] = await Promise.all(session.undelivered().map((ticket) => finalReply(session, ticket, ctx.budget)));
      const next = session.current ?? session.queued[0];
      // A queued cell refused when its turn comes is one more reply: the cells that finished before it are not lost.
      if (next)
        replies.push(
          await awaitTicketReply(session, next, { ...options, ctx: requestCtx, interruptOnCancel: false }).catch(() => finalReply(session, next, ctx.budget)),
        );
      if (replies.length === 0) {
        const message = `No cell is running or waiting in session ${session.id}.`;
        return { content: [{ type: 'text', text: message }], structuredContent: redactedData({ session_id: session.id, cells: [], message }) };
      }
      const isError = replies.some((reply) => reply.isError);
      return {
        content: replies.flatMap((reply) => reply.content),
        structuredContent: redactedData({ session_id: session.id, cells: replies.map((reply) => reply.data) }),
        ...(isError ? { isError: true } : {}),
      };
    }),
  );
}
