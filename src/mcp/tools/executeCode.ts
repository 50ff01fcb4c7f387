import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { cellResult } from '../cellResult.js';
import type { ToolContext } from '../context.js';
import { guarded } from '../results.js';
import { code, insertIndex, sessionId } from './schemas.js';

export function registerExecuteCode(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'execute_code',
    {
      title: 'Run code',
      description:
        "Run code in the session's kernel. The code becomes a new notebook cell (appended, or inserted at cell_index) and its outputs are recorded. Returns text output, images and errors (ename: evalue + traceback).",
      inputSchema: z.object({ session_id: sessionId, code, cell_index: insertIndex }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, code: source, cell_index }) => {
      const session = ctx.sessions.get(session_id);
      return cellResult(session.id, await session.executeCode(source, cell_index), ctx.budget);
    }),
  );
}
