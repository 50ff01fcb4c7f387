import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { cellResult } from '../cellResult.js';
import type { ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { cellIndex, sessionId } from './schemas.js';

export function registerRunCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'run_cell',
    {
      title: 'Re-run a code cell',
      description: 'Run an existing code cell again, as it is, and replace its outputs. cell_index may be negative (-1 = last cell).',
      inputSchema: z.object({ session_id: sessionId, cell_index: cellIndex }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index }) => {
      const session = ctx.sessions.get(session_id);
      return cellResult(session.id, await session.runCell(cell_index), ctx.budget);
    }),
  );
}
