import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { MoveTarget } from '../../notebook/moveTarget.js';
import { JlabError } from '../../util/errors.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { cellRefOf } from './cellArgs.js';
import { diskNotes } from './diskNotes.js';
import { cellId, cellIndex, sessionId } from './schemas.js';

const placedCell = z.looseObject({ id: z.string(), index: z.number().int() });
const moveCellOutput = z.looseObject({
  session_id: z.string(),
  cell: placedCell,
  from_index: z.number().int(),
  notebook_path: z.string(),
  message: z.string(),
  notes: z.array(z.string()).optional(),
});

export function registerMoveCell(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'move_cell',
    {
      description:
        'Move a cell (cell_id or cell_index) to to_index, before_cell_id or after_cell_id (one of them); id and outputs stay. Does not wait for a running cell, which may be moved too.',
      inputSchema: z.object({
        session_id: sessionId,
        cell_id: cellId,
        cell_index: cellIndex,
        to_index: z
          .number()
          .int('to_index must be a whole number: 0-based, negative counts from the end (-1 = last)')
          .optional()
          .describe("The cell's index after the move (0-based; negative counts from the end, -1 = last)."),
        before_cell_id: cellId.describe('Move it right before the cell with this id.'),
        after_cell_id: cellId.describe('Move it right after the cell with this id.'),
      }),
      outputSchema: moveCellOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, cell_id, cell_index, ...destination }) => {
      const session = await ctx.sessions.use(session_id);
      const { from, index, cell } = await session.moveCell(cellRefOf({ cell_id, cell_index }), moveTargetOf(destination));
      return jsonResult({
        session_id: session.id,
        cell: { id: cell.id, index },
        from_index: from,
        notebook_path: session.notebookPath,
        message: index === from ? `Cell ${cell.id} is already at index ${index}; nothing changed.` : `Moved cell ${cell.id} from index ${from} to ${index}.`,
        ...diskNotes(session.notebook),
      } satisfies z.input<typeof moveCellOutput>);
    }),
  );
}

/** Exactly one destination of to_index, before_cell_id and after_cell_id. */
function moveTargetOf(args: { to_index?: number; before_cell_id?: string; after_cell_id?: string }): MoveTarget {
  const given = (['to_index', 'before_cell_id', 'after_cell_id'] as const).filter((name) => args[name] !== undefined);
  if (given.length !== 1) {
    throw new JlabError(
      'INVALID_ARGUMENT',
      given.length === 0 ? 'No destination was given.' : `Only one destination may be given, not ${given.join(' and ')}.`,
      { hint: 'Give exactly one of to_index (the index after the move, -1 = last), before_cell_id or after_cell_id.' },
    );
  }
  if (args.before_cell_id !== undefined) return { beforeId: args.before_cell_id };
  if (args.after_cell_id !== undefined) return { afterId: args.after_cell_id };
  return { toIndex: args.to_index! };
}
