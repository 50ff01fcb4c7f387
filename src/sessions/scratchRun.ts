import { randomBytes } from 'node:crypto';
import type { CodeCell } from '../notebook/types.js';
import type { RunNotebook } from './cellRun.js';

/**
 * Where a scratch run's outputs go: a cell of its own that no notebook holds, and a "notebook"
 * that keeps nothing — no change is noted, no save is made, so the file stays byte-identical
 * (a save would stamp a new revision into it even with no cell changed).
 */
export const SCRATCH_NOTEBOOK: RunNotebook = {
  changed: () => {},
  scheduleSave: () => {},
  save: async () => {},
  indexOf: () => -1,
};

/** The detached cell a scratch run writes its outputs into; its id names the run in logs only. */
export function scratchCell(source: string): CodeCell {
  return { cell_type: 'code', id: `scratch-${randomBytes(4).toString('hex')}`, metadata: {}, source, outputs: [], execution_count: null };
}
