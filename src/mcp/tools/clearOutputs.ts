import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { CellRef } from '../../notebook/cellRef.js';
import type { Cell } from '../../notebook/types.js';
import { JlabError } from '../../util/errors.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { cellRefOf } from './cellArgs.js';
import { diskNotes } from './diskNotes.js';
import { cellId, cellIndex, sessionId } from './schemas.js';

const placedCell = z.looseObject({ id: z.string(), index: z.number().int() });
const clearOutputsOutput = z.looseObject({
  session_id: z.string(),
  /** The cells whose outputs were cleared (cells already empty are left out). */
  cleared: z.array(placedCell),
  /** With all: the running cell, left as it is; null when none runs. */
  skipped_running: placedCell.nullable(),
  notebook_path: z.string(),
  message: z.string(),
  notes: z.array(z.string()).optional(),
});

export function registerClearOutputs(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'clear_outputs',
    {
      description:
        'Empty the outputs of one code cell (cell_id or cell_index) or of all (all: true), in the notebook only. Does not wait for a running cell; that cell itself is refused (all: true skips it).',
      inputSchema: z.object({
        session_id: sessionId,
        cell_id: cellId,
        cell_index: cellIndex,
        all: z.boolean().optional().describe('true: clear every code cell (instead of cell_id / cell_index).'),
      }),
      outputSchema: clearOutputsOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_id, cell_index, all }) => {
      const session = await ctx.sessions.use(session_id);
      const { cleared, skipped } = await session.clearOutputs(targetOf({ cell_id, cell_index, all }));
      const place = (cell: Cell) => ({ id: cell.id, index: session.notebook.indexOf(cell) });
      const skippedNote = skipped ? ` The running cell ${skipped.id} was left as it is.` : '';
      return jsonResult({
        session_id: session.id,
        cleared: cleared.map(place),
        skipped_running: skipped ? place(skipped) : null,
        notebook_path: session.notebookPath,
        message: `${cleared.length === 0 ? 'Nothing to clear: no outputs there.' : `Cleared the outputs of ${cleared.length} cell(s).`}${skippedNote}`,
        ...diskNotes(session.notebook),
      } satisfies z.input<typeof clearOutputsOutput>);
    }),
  );
}

/** One cell (cell_id or cell_index) or all: true, never both. */
function targetOf(args: { cell_id?: string; cell_index?: number; all?: boolean }): CellRef | 'all' {
  if (args.all === true) {
    if (args.cell_id !== undefined || args.cell_index !== undefined) {
      throw new JlabError('INVALID_ARGUMENT', 'all: true and a cell (cell_id / cell_index) were both given.', {
        hint: 'Give all: true to clear every code cell, or one cell by cell_id or cell_index.',
      });
    }
    return 'all';
  }
  if (args.cell_id === undefined && args.cell_index === undefined) {
    throw new JlabError('INVALID_ARGUMENT', 'No cell was named: give cell_id or cell_index, or all: true.', {
      hint: 'Pass cell_id (cell.id of a result), cell_index (-1 = the last cell), or all: true for every code cell.',
    });
  }
  return cellRefOf(args);
}
