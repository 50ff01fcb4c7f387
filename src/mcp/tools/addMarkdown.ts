import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { insertRefOf } from './cellArgs.js';
import { diskNotes } from './diskNotes.js';
import { markdownOutput } from './outputSchemas.js';
import { afterCellId, beforeCellId, insertIndex, sessionId } from './schemas.js';

export function registerAddMarkdown(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'add_markdown',
    {
      description: 'Add a markdown cell, placed as execute_code places code.',
      inputSchema: z.object({
        session_id: sessionId,
        markdown: z.string(),
        cell_index: insertIndex,
        before_cell_id: beforeCellId,
        after_cell_id: afterCellId,
      }),
      outputSchema: markdownOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, markdown, ...where }) => {
      const session = await ctx.sessions.use(session_id);
      const { index, cell } = await session.addMarkdown(markdown, insertRefOf(where));
      return jsonResult({
        session_id: session.id,
        cell: { id: cell.id, index },
        message: `Added markdown cell at index ${index} (id ${cell.id})`,
        notebook_path: session.notebookPath,
        ...diskNotes(session.notebook),
      } satisfies z.input<typeof markdownOutput>);
    }),
  );
}
