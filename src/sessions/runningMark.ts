import type { Cell } from '../notebook/types.js';

/**
 * The cell metadata key that says a cell was running when the file was written. If jlab-mcp
 * dies mid-cell the notebook keeps the cell, its output up to the last save and this mark, so a
 * person (or a resume) can tell it never finished.
 */
export const RUNNING_MARK_KEY = 'jlab_mcp';

export function setRunningMark(cell: Cell, startedAt: number): void {
  cell.metadata[RUNNING_MARK_KEY] = { status: 'running', started: new Date(startedAt).toISOString() };
}

export function clearRunningMark(cell: Cell): void {
  delete cell.metadata[RUNNING_MARK_KEY];
}

/** Marks left by a jlab-mcp that died mid-cell say "interrupted" once the notebook is opened again. */
export function settleStaleMarks(cells: readonly Cell[]): number {
  let count = 0;
  for (const cell of cells) {
    const mark = cell.metadata[RUNNING_MARK_KEY] as { status?: string } | undefined;
    if (mark?.status !== 'running') continue;
    cell.metadata[RUNNING_MARK_KEY] = { ...mark, status: 'interrupted' };
    count++;
  }
  return count;
}
