import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { awaitTicket, finalResult } from '../cellWaiter.js';
import { waitOptions, type ToolContext } from '../context.js';
import { awaitReplay } from '../replayWaiter.js';
import { guarded, jsonResult } from '../results.js';
import { sessionId, timeout } from './schemas.js';

export function registerWaitForCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'wait_for_cell',
    {
      title: 'Wait for a running cell',
      description:
        'Wait for the cell that is running in the background (after a call returned at its timeout) and return its output since the last look, with its final status once it ends. After a resume that went on in the background, it follows the replay and returns its summary. Returns at once when nothing is running. Cancelling this call does not stop the cell.',
      inputSchema: z.object({ session_id: sessionId, timeout }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, timeout: timeoutSeconds }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      const options = waitOptions(ctx, timeoutSeconds);
      const replay = session.replay;
      if (replay && !replay.delivered) {
        return jsonResult({ session_id: session.id, ...(await awaitReplay(session, replay, { ...options, ctx: requestCtx, cancelOnAbort: false })) });
      }
      const content: CallToolResult['content'] = [];
      let isError = false;
      // Cells that finished while nobody was looking come first, in the order they ran.
      for (const ticket of session.undelivered()) {
        const result = finalResult(session, ticket, ctx.budget);
        content.push(...result.content);
        isError ||= result.isError === true;
      }
      const next = session.current ?? session.queued[0];
      if (next) {
        const result = await awaitTicket(session, next, { ...options, ctx: requestCtx, interruptOnCancel: false });
        content.push(...result.content);
        isError ||= result.isError === true;
      }
      if (content.length === 0) content.push({ type: 'text', text: `No cell is running or waiting in session ${session.id}.` });
      return { content, isError };
    }),
  );
}
