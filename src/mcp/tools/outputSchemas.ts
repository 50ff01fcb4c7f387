import { z } from 'zod';

/**
 * The structured content of the tools that share a shape, declared as each tool's outputSchema:
 * the server checks every result against it and clients may too. tools/list carries every
 * schema on every agent turn, so a schema's top level names only the fields an agent reads (the
 * rest of a result rides along, which loose objects allow), and only that top level is listed
 * (compactListing.ts); nested shapes are checked here. (Tools with a shape of their own declare
 * it in their file.)
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
  cell: cellRef,
  status: z.enum(['ok', 'error', 'aborted', 'kernel_died', 'server_lost', 'running', 'queued', 'not_run']),
  execution_count: z.number().int().nullable(),
  /** The exception of a cell that ended with status error. */
  error: z.looseObject({ ename: z.string(), evalue: z.string() }).nullable(),
  /** What happened besides the output (a dead kernel, a failed save, a move to a new job, the queue). */
  notes: z.array(z.string()),
});

/** Every cell reply: the listed fields, and those the agent already knows from its call. */
export type CellResultData = z.infer<typeof cellResultOutput> & {
  session_id: string;
  /** The text output was cut to the budget; output_uri pages through all of it (the reply's text links it too). */
  truncated: boolean;
  /** The cell's full output as text, page by page (?offset=N); null when the cell has no id yet. */
  output_uri: string | null;
  /** Run time so far (running) or in all (finished); null when it has not started. */
  duration_seconds: number | null;
  notebook_path: string;
};

/** A resume's replay: where it stands, the cells that failed (the result also repeats cells_run). Also wait_for_cell's answer while it follows one. */
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
  restored_with_errors: z
    .array(z.looseObject({ cell: placedCell, status: z.string(), ename: z.string().optional(), evalue: z.string().optional() }))
    .nullable(),
  message: z.string(),
};

/**
 * start_*, list_sessions: one session. (Also experiment_name, kernel_name, kernel_id,
 * kernel_state, cells, language, backend, profile.)
 */
export const sessionSummaryOutput = z.looseObject({ session_id: z.string(), notebook_path: z.string() });

export const resumeOutput = sessionSummaryOutput.extend(replayFields);
export const continueOutput = sessionSummaryOutput.extend({ original_notebook: z.string() });

export const waitForCellOutput = z.looseObject({
  /** Cells that finished since the last look, in the order they ran, then the one running or queued now. */
  cells: z.array(cellResultOutput),
  // While a resume's replay runs, wait_for_cell follows it and answers with its summary instead.
  replay: replayFields.replay.optional(),
  restored_with_errors: replayFields.restored_with_errors.optional(),
  message: z.string().optional(),
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

/** A cell added or edited without running (markdown). Also notes: edits someone else made to the file, merged by this save. */
export const markdownOutput = z.looseObject({ cell: placedCell, notes: z.array(z.string()).optional() });

export const deleteCellOutput = z.looseObject({ cell: placedCell, deleted_source: z.string(), notes: z.array(z.string()).optional() });

export const shutdownOutput = z.looseObject({ notebook_path: z.string() });

export const restartOutput = z.looseObject({
  /** The cell the restart stopped; null when none was running. */
  stopped: placedCell.nullable(),
  dropped_queued_cells: z.number().int(),
});

/** Also dropped_queued_cells. */
export const interruptOutput = z.looseObject({
  /** The cell the interrupt was aimed at; null when none was running. */
  interrupted: placedCell.nullable(),
  state: z.enum(['idle', 'stopped', 'still_busy', 'restarted']),
  message: z.string(),
});
