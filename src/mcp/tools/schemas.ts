import { z } from 'zod';
import type { ToolContext } from '../context.js';

/** Parameter schemas shared by several tools, with the descriptions the agent reads. */
export const sessionId = z.string().min(1).describe('Session id returned by start_new_session (or a resume/continue call).');
export const experimentName = z.string().min(1).max(200).describe('Name for the experiment; the notebook file is named after it.');
/** On resume and continue the name is a label only (the file keeps, or forks, its own name). */
export const experimentLabel = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe("Name for this session (list_sessions shows it). Default: the notebook's file name without .ipynb.");
export const notebookPath = z.string().min(1).describe('Path of an existing notebook inside the notebook directory (as returned by a start_* call).');
export const code = z.string().describe('Code to run in the kernel.');
export const cellIndex = z
  .number()
  .int('cell_index must be a whole number: 0-based, negative counts from the end (-1 = last cell)')
  .optional()
  .describe(
    'The existing cell at this position in the notebook (cell.index in results), 0-based; negative counts from the end (-1 = last cell). Positions move when cells are inserted or deleted: prefer cell_id. Give cell_index or cell_id, not both.',
  );
/** A cell id as nbformat 4.5 allows it (what every result returns as cell.id). */
const cellIdString = z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/, 'a cell id is 1-64 letters, digits, - or _ (as results return it in cell.id)');
export const cellId = cellIdString
  .optional()
  .describe(
    'Id of an existing cell (cell.id in every result; stable across inserts, deletes, saves, resume and continue). Give cell_id or cell_index, not both.',
  );
export const insertIndex = z
  .number()
  .int('cell_index must be a whole number: 0-based, negative counts from the end (-1 = the last cell)')
  .optional()
  .describe(
    'Here cell_index is an insert position, not an existing cell: the new cell goes at this position instead of the end (0-based; negative counts from the end; the cell count appends). Give at most one of cell_index, before_cell_id, after_cell_id.',
  );
export const beforeCellId = cellIdString
  .optional()
  .describe('Insert the new cell right before the cell with this id (wherever it is by the time the cell runs).');
export const afterCellId = cellIdString
  .optional()
  .describe('Insert the new cell right after the cell with this id (wherever it is by the time the cell runs).');
/** The longest wait a call accepts, in seconds (one day; a timer cannot hold more than ~24.8 days). */
export const MAX_WAIT_SECONDS = 86_400;

/** The timeout argument; its default (in the description) is the server's setting. */
export function timeout(ctx: ToolContext) {
  return z
    .number()
    .min(0, 'timeout cannot be negative; use 0 to return at once with what is there')
    .max(MAX_WAIT_SECONDS, `timeout is at most ${MAX_WAIT_SECONDS} s (one day); a longer cell keeps running anyway — call wait_for_cell again`)
    .optional()
    .describe(
      `Seconds to wait before returning the output so far (the cell keeps running; use wait_for_cell for the rest). 0 returns at once. Default: ${seconds(ctx.execTimeoutMs)} (the server setting JLAB_MCP_EXEC_TIMEOUT).`,
    );
}

/** The cell_timeout argument of a resume; its default (in the description) is the server's setting. */
export function cellTimeout(ctx: ToolContext) {
  return z
    .number()
    .positive('cell_timeout must be more than 0 seconds')
    .max(MAX_WAIT_SECONDS, `cell_timeout is at most ${MAX_WAIT_SECONDS} s (one day)`)
    .optional()
    .describe(
      `Seconds one replayed cell may run before it is interrupted (the kernel is restarted if it ignores the interrupt) and the replay goes on. Default: ${seconds(ctx.resumeCellTimeoutMs)} (the server setting JLAB_MCP_RESUME_CELL_TIMEOUT).`,
    );
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export const stopOnError = z
  .boolean()
  .optional()
  .describe('Stop the replay at the first cell that fails (default false: every cell runs and the failures are listed).');
export const profile = z
  .string()
  .min(1)
  .optional()
  .describe('SLURM profile (e.g. gpu, cpu) from JLAB_MCP_SLURM_PROFILES; sessions of one profile share one job. Default: the default profile.');
