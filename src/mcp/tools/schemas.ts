import { z } from 'zod';

/** Parameter schemas shared by several tools, with the descriptions the agent reads. */
export const sessionId = z.string().min(1).describe('Session id returned by start_new_session (or a resume/continue call).');
export const experimentName = z.string().min(1).max(200).describe('Name for the experiment; the notebook file is named after it.');
export const notebookPath = z.string().min(1).describe('Path of an existing notebook inside the notebook directory (as returned by a start_* call).');
export const code = z.string().describe('Code to run in the kernel.');
export const cellIndex = z
  .number()
  .int('cell_index must be a whole number: 0-based, negative counts from the end (-1 = last cell)')
  .optional()
  .describe('Cell position in the notebook, 0-based; negative counts from the end (-1 = last cell). Positions move when cells are inserted or deleted: prefer cell_id. Give cell_index or cell_id, not both.');
/** A cell id as nbformat 4.5 allows it (what every cell result returns as cell_id). */
const cellIdString = z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/, 'a cell id is 1-64 letters, digits, - or _ (as cell results return it in cell_id)');
export const cellId = cellIdString
  .optional()
  .describe('Id of the cell (cell_id in every cell result; stable across inserts, deletes, saves, resume and continue). Give cell_id or cell_index, not both.');
export const insertIndex = z
  .number()
  .int('cell_index must be a whole number: 0-based, negative counts from the end (-1 = the last cell)')
  .optional()
  .describe('Insert the new cell at this position instead of appending (0-based; negative counts from the end). Give at most one of cell_index, before_cell_id, after_cell_id.');
export const beforeCellId = cellIdString.optional().describe('Insert the new cell right before the cell with this id (wherever it is by the time the cell runs).');
export const afterCellId = cellIdString.optional().describe('Insert the new cell right after the cell with this id (wherever it is by the time the cell runs).');
/** The longest wait a call accepts, in seconds (one day; a timer cannot hold more than ~24.8 days). */
export const MAX_WAIT_SECONDS = 86_400;

export const timeout = z
  .number()
  .min(0, 'timeout cannot be negative; use 0 to return at once with what is there')
  .max(MAX_WAIT_SECONDS, `timeout is at most ${MAX_WAIT_SECONDS} s (one day); a longer cell keeps running anyway — call wait_for_cell again`)
  .optional()
  .describe('Seconds to wait before returning the output so far (the cell keeps running; use wait_for_cell for the rest). 0 returns at once. Default: the server setting (50 s).');
export const cellTimeout = z
  .number()
  .positive('cell_timeout must be more than 0 seconds')
  .max(MAX_WAIT_SECONDS, `cell_timeout is at most ${MAX_WAIT_SECONDS} s (one day)`)
  .optional()
  .describe('Seconds one replayed cell may run before it is interrupted (the kernel is restarted if it ignores the interrupt) and the replay goes on. Default: the server setting (900 s).');
export const stopOnError = z
  .boolean()
  .optional()
  .describe('Stop the replay at the first cell that fails (default false: every cell runs and the failures are listed).');
export const profile = z
  .string()
  .min(1)
  .optional()
  .describe('SLURM profile (e.g. gpu, cpu) from JLAB_MCP_SLURM_PROFILES; sessions of one profile share one job. Default: the default profile.');
