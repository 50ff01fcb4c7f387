import type { CellRef, InsertRef } from '../../notebook/cellRef.js';
import { JlabError } from '../../util/errors.js';

/** The cell a tool acts on: exactly one of cell_index and cell_id. */
export function cellRefOf(args: { cell_index?: number; cell_id?: string }): CellRef {
  const { cell_index: index, cell_id: id } = args;
  if (index !== undefined && id !== undefined) {
    throw new JlabError('INVALID_ARGUMENT', `Both cell_index (${index}) and cell_id ("${id}") were given; they could name different cells.`, {
      hint: 'Give exactly one: cell_id (stable; every result names a cell as cell: {id, index}) or cell_index.',
    });
  }
  if (id !== undefined) return { id };
  if (index !== undefined) return { index };
  throw new JlabError('INVALID_ARGUMENT', 'No cell was named: give cell_id or cell_index.', {
    hint: 'Pass cell_id (cell.id of a result, e.g. "a1b2c3d4") or cell_index (0-based, -1 = the last cell).',
  });
}

/** Where a new cell goes: at most one of cell_index, before_cell_id and after_cell_id; none appends. */
export function insertRefOf(args: { cell_index?: number; before_cell_id?: string; after_cell_id?: string }): InsertRef {
  const given = (['cell_index', 'before_cell_id', 'after_cell_id'] as const).filter((name) => args[name] !== undefined);
  if (given.length > 1) {
    throw new JlabError('INVALID_ARGUMENT', `Only one insert position may be given, not ${given.join(' and ')}.`, {
      hint: 'Give one of before_cell_id, after_cell_id (stable) or cell_index, or none to append.',
    });
  }
  if (args.before_cell_id !== undefined) return { beforeId: args.before_cell_id };
  if (args.after_cell_id !== undefined) return { afterId: args.after_cell_id };
  return { index: args.cell_index };
}
