import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { cellIndex, sessionId } from './schemas.js';

export function registerDeleteCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'delete_cell',
    {
      title: 'Delete a cell',
      description: 'Remove a cell (code or markdown) from the notebook. Kernel state is not changed. cell_index may be negative.',
      inputSchema: z.object({ session_id: sessionId, cell_index: cellIndex }),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_index }) => {
      const session = await ctx.sessions.use(session_id);
      const removed = await session.deleteCell(cell_index);
      return jsonResult({
        deleted_cell_type: removed.cell_type,
        deleted_source: removed.source.length > 200 ? `${removed.source.slice(0, 200)}…` : removed.source,
        cells_left: session.notebook.cells.length,
        notebook_path: session.notebookPath,
      });
    }),
  );
}
