import { JlabError } from '../util/errors.js';
import { positionOfId } from './cellRef.js';
import type { Cell } from './types.js';

/** Where move_cell puts a cell: a final position (negative counts from the end), or next to another cell by id. */
export type MoveTarget = { toIndex: number } | { beforeId: string } | { afterId: string };

/**
 * The position `moving` (now at `from`) ends up at, counted once it has left its place: the
 * position to_index names is the cell's own index after the move. Before or after itself is
 * where it is already.
 */
export function resolveMoveTarget(cells: readonly Cell[], from: number, target: MoveTarget): number {
  const count = cells.length;
  if ('toIndex' in target) {
    const resolved = target.toIndex < 0 ? count + target.toIndex : target.toIndex;
    if (resolved < 0 || resolved >= count) {
      throw new JlabError('CELL_INDEX_OUT_OF_RANGE', `to_index ${target.toIndex} is out of range: the notebook has ${count} cell(s).`, {
        hint: `Use 0..${count - 1} (the cell's index after the move), -1 for the end, or before_cell_id / after_cell_id.`,
      });
    }
    return resolved;
  }
  const id = 'beforeId' in target ? target.beforeId : target.afterId;
  const next = positionOfId(cells, id); // CELL_NOT_FOUND (with the ids there are) when no cell has it
  if (next === from) return from;
  // Positions after the moving cell shift down by one once it has left.
  const anchor = next > from ? next - 1 : next;
  return 'beforeId' in target ? anchor : anchor + 1;
}
