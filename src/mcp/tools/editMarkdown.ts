import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { cellIndex, sessionId } from './schemas.js';

export function registerEditMarkdown(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'edit_markdown',
    {
      title: 'Edit a markdown cell',
      description: "Replace a markdown cell's text. cell_index may be negative (-1 = last cell).",
      inputSchema: z.object({ session_id: sessionId, cell_index: cellIndex, markdown: z.string().describe('New markdown text.') }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index, markdown }) => {
      const session = await ctx.sessions.use(session_id);
      const index = await session.editMarkdown(cell_index, markdown);
      return jsonResult({ cell_index: index, message: `Updated markdown cell ${index}`, notebook_path: session.notebookPath });
    }),
  );
}
