import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { insertIndex, sessionId } from './schemas.js';

export function registerAddMarkdown(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'add_markdown',
    {
      title: 'Add a markdown cell',
      description: 'Add a markdown cell to the notebook (appended, or inserted at cell_index) to document the work.',
      inputSchema: z.object({ session_id: sessionId, markdown: z.string().describe('Markdown text.'), cell_index: insertIndex }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, markdown, cell_index }) => {
      const session = await ctx.sessions.use(session_id);
      const index = await session.addMarkdown(markdown, cell_index);
      return jsonResult({ cell_index: index, message: `Added markdown cell at index ${index}`, notebook_path: session.notebookPath });
    }),
  );
}
