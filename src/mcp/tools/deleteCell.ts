import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { cellRefOf } from './cellArgs.js';
import { diskNotes } from './diskNotes.js';
import { deleteCellOutput } from './outputSchemas.js';
import { cellId, cellIndex, sessionId } from './schemas.js';

export function registerDeleteCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'delete_cell',
    {
      description: 'Remove a cell from the notebook; the kernel is not changed.',
      inputSchema: z.object({ session_id: sessionId, cell_index: cellIndex, cell_id: cellId }),
      outputSchema: deleteCellOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index, cell_id }) => {
      const session = await ctx.sessions.use(session_id);
      const { index, cell } = await session.deleteCell(cellRefOf({ cell_index, cell_id }));
      return jsonResult({
        session_id: session.id,
        cell: { id: cell.id, index },
        deleted_cell_type: cell.cell_type,
        deleted_source: cell.source.length > 200 ? `${cell.source.slice(0, 200)}…` : cell.source,
        cells_left: session.notebook.cells.length,
        notebook_path: session.notebookPath,
        ...diskNotes(session.notebook),
      } satisfies z.input<typeof deleteCellOutput>);
    }),
  );
}
