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
      title: 'Run code',
      description:
        "Run code in the session's kernel. The code becomes a new notebook cell (appended, or inserted before_cell_id / after_cell_id / at the position cell_index) and its outputs are recorded. Returns text output, images and errors (ename: evalue + traceback), and the cell as cell: {id, index} (pass cell.id as cell_id to address it later). If the cell runs longer than timeout, you get the output so far and the cell keeps running: call wait_for_cell for the rest. A call made while another cell runs is queued behind it. Cancelling the request interrupts the kernel.",
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
          .describe(
            'true: a throwaway look (df.shape, !nvidia-smi) that is not recorded: no cell, the notebook and execution count stay as they are. It still runs in the kernel (variables it sets stay), queued like a cell.',
          ),
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
