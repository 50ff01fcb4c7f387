import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { JlabError } from '../../util/errors.js';
import { awaitTicket } from '../cellWaiter.js';
import { waitOptions, type ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { insertRefOf } from './cellArgs.js';
import { cellResultOutput } from './outputSchemas.js';
import { afterCellId, beforeCellId, code, insertIndex, sessionId, timeout } from './schemas.js';

export function registerExecuteCode(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'execute_code',
    {
      description:
        'Run code as a new notebook cell (appended, or placed by cell_index, before_cell_id or after_cell_id); returns output, images, errors, cell: {id, index}. Queues behind a running cell. Past timeout: the output so far; the cell runs on (wait_for_cell). Cancelling interrupts it.',
      inputSchema: z.object({
        session_id: sessionId,
        timeout: timeout(ctx),
        code,
        cell_index: insertIndex,
        before_cell_id: beforeCellId,
        after_cell_id: afterCellId,
        scratch: z
          .boolean()
          .optional()
          .describe('true: a throwaway look (df.shape): runs in the kernel, queued like a cell, but adds no cell and leaves In [n] as is.'),
      }),
      outputSchema: cellResultOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, code: source, timeout: timeoutSeconds, scratch, ...where }, requestCtx) => {
      const session = await ctx.sessions.use(session_id);
      if (scratch) noPosition(where);
      const ticket = scratch ? session.executeScratch(source) : session.executeCode(source, insertRefOf(where));
      return awaitTicket(session, ticket, { ...waitOptions(ctx, timeoutSeconds), ctx: requestCtx, interruptOnCancel: true });
    }),
  );
}

/** A scratch run adds no cell, so a position for one is a mistake worth saying. */
function noPosition(where: { cell_index?: number; before_cell_id?: string; after_cell_id?: string }): void {
  const given = Object.entries(where).filter(([, value]) => value !== undefined);
  if (given.length === 0) return;
  throw new JlabError('INVALID_ARGUMENT', `scratch: true adds no cell, so ${given.map(([name]) => name).join(' and ')} has no meaning.`, {
    hint: 'Drop the position to run it as scratch, or drop scratch to record it as a cell there.',
  });
}
