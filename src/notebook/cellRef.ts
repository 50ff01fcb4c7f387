import { JlabError } from '../util/errors.js';
import type { Cell } from './types.js';

/**
 * A cell named by its position (0-based, negative counts from the end) or by its id. An id
 * stays the cell's across inserts, deletes, saves, resumes and forks; a position does not.
 */
export type CellRef = { index: number; id?: undefined } | { id: string; index?: undefined };

/**
 * Where a new cell goes: at a position (negative counts from the end), or right before / after
 * the cell with an id; `{}` appends. The tools accept at most one of the three.
 */
export interface InsertRef {
  index?: number;
  beforeId?: string;
  afterId?: string;
}

/** "cell 3" or "cell a1b2c3d4": how messages name the cell the agent asked for. */
export function refLabel(ref: CellRef): string {
  return ref.id !== undefined ? `cell ${ref.id}` : `cell ${ref.index}`;
}

/** How many ids a CELL_NOT_FOUND hint lists. */
const LISTED_IDS = 8;

/**
 * The position of the cell with this id, or CELL_NOT_FOUND. The hint lists ids the agent may
 * have meant (a shared prefix first: a typo or a cut-off id), then the newest cells.
 */
export function positionOfId(cells: readonly Cell[], id: string): number {
  const position = cells.findIndex((cell) => cell.id === id);
  if (position >= 0) return position;
  const described = (cell: Cell, at: number) => `${cell.id} (cell ${at}, ${cell.cell_type})`;
  const alike = cells
    .map((cell, at) => ({ cell, at, shared: sharedPrefix(cell.id.toLowerCase(), id.toLowerCase()) }))
    .filter((each) => each.shared >= 2)
    .sort((a, b) => b.shared - a.shared)
    .slice(0, LISTED_IDS);
  const newest = cells
    .map((cell, at) => ({ cell, at }))
    .slice(-LISTED_IDS)
    .filter((each) => !alike.some((other) => other.at === each.at))
    .slice(-(LISTED_IDS - alike.length));
  const lists: string[] = [];
  if (alike.length) lists.push(`similar ids: ${alike.map((each) => described(each.cell, each.at)).join(', ')}`);
  if (newest.length) lists.push(`${alike.length ? 'other' : 'the'} last cells: ${newest.map((each) => described(each.cell, each.at)).join(', ')}`);
  throw new JlabError('CELL_NOT_FOUND', `No cell has the id "${id}" in this notebook (${cells.length} cell(s)); it may have been deleted.`, {
    hint:
      cells.length === 0
        ? 'The notebook is empty; use execute_code to add a cell.'
        : `Use a cell_id from a cell result or from read_notebook, or a cell_index. ${capitalize(lists.join('; '))}.`,
    context: { cellId: id, cells: cells.length },
  });
}

function sharedPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
