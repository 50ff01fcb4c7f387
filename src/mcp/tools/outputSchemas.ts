import { z } from 'zod';
import { unlisted } from './compactListing.js';

/**
 * The structured content of the tools that share a shape, declared as each tool's outputSchema:
 * the server checks every result against it, clients may too, so these are the one source of
 * truth for what a result holds. Loose objects: a field added later is no break. tools/list
 * carries every schema on every agent turn, so it shows only the top-level fields an agent reads
 * (compactListing.ts); the `unlisted` ones and what is inside a field are checked, not listed.
 * (Tools with a shape of their own declare it in their file.)
 */

/**
 * How every result names a cell: its id (stable; what cell_id arguments take) and its position
 * now (what cell_index arguments take). Both null while a new cell waits in the queue (it gets
 * its id and place when it runs) or when it never ran.
 */
export const cellRef = z.looseObject({ id: z.string().nullable(), index: z.number().int().nullable() });
/** A cell that exists: id and position known. */
const placedCell = z.looseObject({ id: z.string(), index: z.number().int() });

/** A cell as the result of execute_code, edit_cell, run_cell and (each of) wait_for_cell. */
export const cellResultOutput = z.looseObject({
  session_id: unlisted(z.string()),
  cell: cellRef,
  status: z.enum(['ok', 'error', 'aborted', 'kernel_died', 'server_lost', 'running', 'queued', 'not_run']),
  execution_count: z.number().int().nullable(),
  /** Run time so far (running) or in all (finished); null when it has not started. */
  duration_seconds: unlisted(z.number().nullable()),
  /** The text output was cut to the budget; output_uri pages through all of it (the reply links it too). */
  truncated: unlisted(z.boolean()),
  /** The cell's full output as text, page by page (?offset=N); null when the cell has no id yet. */
  output_uri: unlisted(z.string().nullable()),
  /** The exception of a cell that ended with status error. */
  error: z.looseObject({ ename: z.string(), evalue: z.string() }).nullable(),
  notebook_path: unlisted(z.string()),
  /** What happened besides the output (a dead kernel, a failed save, a move to a new job, the queue). */
  notes: z.array(z.string()),
});
export type CellResultData = z.infer<typeof cellResultOutput>;

/** A resume's replay: where it stands, the cells that failed. Also wait_for_cell's answer while it follows one. */
export const replayFields = {
  replay: z.looseObject({
    status: z.enum(['running', 'stopped', 'done']),
    cells_total: z.number().int(),
    cells_run: z.number().int(),
    /** The cell the replay runs now; null between cells and once it ended. */
    running: placedCell.nullable(),
    stopped_because: z.string().nullable(),
    seconds: z.number(),
    save_error: z.string().nullable(),
  }),
  cells_run: unlisted(z.number().int()),
  restored_with_errors: z
    .array(z.looseObject({ cell: placedCell, status: z.string(), ename: z.string().optional(), evalue: z.string().optional() }))
    .nullable(),
  message: z.string(),
};

/** start_*, list_sessions: one session. */
export const sessionSummaryOutput = z.looseObject({
  session_id: z.string(),
  experiment_name: unlisted(z.string()),
  notebook_path: z.string(),
  /** The kernelspec name, as start_new_session's kernel_name argument takes it. */
  kernel_name: unlisted(z.string()),
  kernel_display_name: unlisted(z.string().optional()),
  language: unlisted(z.string().optional()),
  kernel_id: unlisted(z.string()),
  kernel_state: unlisted(z.string()),
  cells: unlisted(z.number().int()),
  backend: unlisted(z.string().optional()),
  profile: unlisted(z.string().optional()),
});

export const resumeOutput = sessionSummaryOutput.extend(replayFields);
export const continueOutput = sessionSummaryOutput.extend({ original_notebook: z.string() });

export const waitForCellOutput = z.looseObject({
  session_id: unlisted(z.string()),
  /** Cells that finished since the last look, in the order they ran, then the one running or queued now. */
  cells: z.array(cellResultOutput),
  message: z.string().optional(),
  // While a resume's replay runs, wait_for_cell follows it and answers with its summary instead.
  replay: replayFields.replay.optional(),
  cells_run: unlisted(replayFields.cells_run.optional()),
  restored_with_errors: replayFields.restored_with_errors.optional(),
});

export const listSessionsOutput = z.looseObject({
  sessions: z.array(sessionSummaryOutput),
  /** Sessions that could not come back after a restart, each with the call that resumes its notebook. */
  gone_sessions: z.array(z.looseObject({ session_id: z.string(), notebook_path: z.string(), reason: z.string(), resume: z.string() })).optional(),
});

export const listKernelsOutput = z.looseObject({
  default: z.string(),
  kernels: z.array(z.looseObject({ name: z.string(), display_name: z.string(), language: z.string().optional() })),
});

/** A cell added, edited or deleted without running (markdown, delete_cell). */
const cellPlace = {
  cell: placedCell,
  notebook_path: unlisted(z.string()),
  /** Edits someone else made to the file, merged by this save (conflicts included); only when there were any. */
  notes: z.array(z.string()).optional(),
};

export const markdownOutput = z.looseObject({ ...cellPlace, session_id: unlisted(z.string()), message: unlisted(z.string()) });

export const deleteCellOutput = z.looseObject({
  ...cellPlace,
  session_id: unlisted(z.string()),
  deleted_cell_type: unlisted(z.string()),
  deleted_source: z.string(),
  cells_left: unlisted(z.number().int()),
});

export const shutdownOutput = z.looseObject({ session_id: unlisted(z.string()), notebook_path: z.string(), message: unlisted(z.string()) });

export const restartOutput = z.looseObject({
  session_id: unlisted(z.string()),
  /** The cell the restart stopped; null when none was running. */
  stopped: placedCell.nullable(),
  dropped_queued_cells: z.number().int(),
  message: unlisted(z.string()),
});

export const interruptOutput = z.looseObject({
  session_id: unlisted(z.string()),
  /** The cell the interrupt was aimed at; null when none was running. */
  interrupted: placedCell.nullable(),
  dropped_queued_cells: unlisted(z.number().int()),
  state: z.enum(['idle', 'stopped', 'still_busy', 'restarted']),
  message: z.string(),
});
