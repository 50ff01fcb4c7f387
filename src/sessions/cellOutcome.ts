import type { Output } from '../notebook/types.js';

/** How a cell's run ended, as the session tells it. */
export type CellStatus = 'ok' | 'error' | 'aborted' | 'kernel_died' | 'server_lost';

export interface CellRunResult {
  status: CellStatus;
  executionCount: number | null;
  outputs: Output[];
  durationMs: number;
  /** Set when the notebook could not be written; the outputs are still returned. */
  saveError?: string;
}

/** A finished run and the cell it ran in (its position when it ended). */
export interface CellOutcome extends CellRunResult {
  cellIndex: number;
  cellId: string;
}
