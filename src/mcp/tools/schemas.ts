import { z } from 'zod';

/** Parameter schemas shared by several tools, with the descriptions the agent reads. */
export const sessionId = z.string().min(1).describe('Session id returned by start_new_session (or a resume/continue call).');
export const experimentName = z.string().min(1).max(200).describe('Name for the experiment; the notebook file is named after it.');
export const notebookPath = z.string().min(1).describe('Path of an existing notebook inside the notebook directory (as returned by a start_* call).');
export const code = z.string().describe('Code to run in the kernel.');
export const cellIndex = z.number().int().describe('Cell position in the notebook, 0-based; negative counts from the end (-1 = last cell).');
export const insertIndex = z
  .number()
  .int()
  .optional()
  .describe('Insert the new cell at this position instead of appending (0-based; negative counts from the end).');
export const timeout = z
  .number()
  .positive()
  .optional()
  .describe('Seconds to wait before returning the output so far (the cell keeps running; use wait_for_cell for the rest). Default: the server setting (50 s).');
export const profile = z
  .string()
  .min(1)
  .optional()
  .describe('SLURM profile (e.g. gpu, cpu) from JLAB_MCP_SLURM_PROFILES; sessions of one profile share one job. Default: the default profile.');
