import { z } from 'zod';
import type { ToolContext } from '../context.js';

/**
 * Parameter schemas shared by several tools, with the descriptions the agent reads. Every tool
 * lists them on every turn: a description says what the name and type do not.
 */
/**
 * A string that must not be empty, checked but not listed (a refinement has no JSON Schema):
 * `minLength: 1` would cost every turn characters and tell an agent nothing it would send.
 */
export const nonEmpty = () => z.string().refine((value) => value.length > 0, 'must not be empty');
export const sessionId = nonEmpty();
export const experimentName = z.string().min(1).max(200).describe('Names the notebook file.');
/** On resume and continue the name is a label only (the file keeps, or forks, its own name). */
export const experimentLabel = nonEmpty()
  .refine((value) => value.length <= 200, 'at most 200 characters')
  .optional()
  .describe('Default: the file name.');
export const notebookPath = nonEmpty().describe('In the notebook directory.');
export const code = z.string();
export const cellIndex = z
  .number()
  .int('cell_index must be a whole number: 0-based, negative counts from the end (-1 = last cell)')
  .optional()
  .describe('The existing cell at this position: 0-based, -1 = last. Prefer cell_id; not both.');
/** A cell id as nbformat 4.5 allows it (what every result returns as cell.id). */
// Checked, not listed (a refinement has no JSON Schema): an id comes from a result, so its
// pattern would cost every turn characters and tell the agent nothing.
const cellIdString = z.string().refine((id) => /^[a-zA-Z0-9-_]{1,64}$/.test(id), 'a cell id is 1-64 letters, digits, - or _ (as results return it in cell.id)');
export const cellId = cellIdString.optional().describe('cell.id of a result (stable).');
export const insertIndex = z
  .number()
  .int('cell_index must be a whole number: 0-based, negative counts from the end (-1 = the last cell)')
  .optional()
  .describe('An insert position, not an existing cell: 0-based, negative from the end.');
/** Where a new cell goes: the names say it (and the tools' descriptions name all three). */
export const beforeCellId = cellIdString.optional();
export const afterCellId = cellIdString.optional();
/** The longest wait a call accepts, in seconds (one day; a timer cannot hold more than ~24.8 days). */
export const MAX_WAIT_SECONDS = 86_400;

/** The timeout argument; its default (in the description) is the server's setting. */
export function timeout(ctx: ToolContext) {
  return z
    .number()
    .min(0, 'timeout cannot be negative; use 0 to return at once with what is there')
    .max(MAX_WAIT_SECONDS, `timeout is at most ${MAX_WAIT_SECONDS} s (one day); a longer cell keeps running anyway — call wait_for_cell again`)
    .optional()
    .describe(`Seconds to wait. Default: ${seconds(ctx.execTimeoutMs)} (the server setting JLAB_MCP_EXEC_TIMEOUT).`);
}

/** The cell_timeout argument of a resume; its default (in the description) is the server's setting. */
export function cellTimeout(ctx: ToolContext) {
  return z
    .number()
    .positive('cell_timeout must be more than 0 seconds')
    .max(MAX_WAIT_SECONDS, `cell_timeout is at most ${MAX_WAIT_SECONDS} s (one day)`)
    .optional()
    .describe(
      `Seconds per replayed cell before it is interrupted (the replay goes on). Default: ${seconds(ctx.resumeCellTimeoutMs)} (the server setting JLAB_MCP_RESUME_CELL_TIMEOUT).`,
    );
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export const stopOnError = z.boolean().optional().describe('Default false: run all, list failures.');
export const profile = nonEmpty().optional().describe('SLURM profile.');
