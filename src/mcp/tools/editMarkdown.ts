import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { cellRefOf } from './cellArgs.js';
import { diskNotes } from './diskNotes.js';
import { markdownOutput } from './outputSchemas.js';
import { cellId, cellIndex, sessionId } from './schemas.js';

export function registerEditMarkdown(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'edit_markdown',
    {
      description: "Replace a markdown cell's text.",
      inputSchema: z.object({ session_id: sessionId, cell_index: cellIndex, cell_id: cellId, markdown: z.string() }),
      outputSchema: markdownOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index, cell_id, markdown }) => {
      const session = await ctx.sessions.use(session_id);
      const { index, cell } = await session.editMarkdown(cellRefOf({ cell_index, cell_id }), markdown);
      return jsonResult({
        session_id: session.id,
        cell: { id: cell.id, index },
        message: `Updated markdown cell ${index} (id ${cell.id})`,
        notebook_path: session.notebookPath,
        ...diskNotes(session.notebook),
      } satisfies z.input<typeof markdownOutput>);
    }),
  );
}
