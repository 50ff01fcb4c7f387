/**
 * Every error code a tool result can carry, with what it means and what the agent should do.
 * The `ErrorCode` type is derived from this table and docs/errors.md is generated from it
 * (`npm run docs`), so a new code cannot be thrown without being documented.
 */
export interface ErrorCodeDoc {
  /** What happened, in one sentence. */
  meaning: string;
  /** What the agent should do next; each error's own `hint` says it for that case. */
  next: string;
}

export const ERROR_CODES = {
  INVALID_ARGUMENT: {
    meaning:
      'An argument is malformed or arguments contradict each other (both `cell_id` and `cell_index`, code with a NUL byte or a lone surrogate, a timeout out of range).',
    next: 'Fix the call as the message says; nothing was run or changed.',
  },
  UNKNOWN_SESSION: {
    meaning: 'No open session has this `session_id` (never started, shut down, or lost with a restarted jlab-mcp that could not adopt it).',
    next: 'Call `list_sessions` for the open ones, or resume the notebook with `start_session_resume_notebook`.',
  },
  CELL_INDEX_OUT_OF_RANGE: {
    meaning: 'A `cell_index` names no cell (negative indices count from the end) or no insert position.',
    next: 'Use an index in the range the message gives, or `read_notebook` to see the cells.',
  },
  CELL_NOT_FOUND: {
    meaning: 'A `cell_id` names no cell of the notebook (or the cell was deleted meanwhile).',
    next: 'Use one of the ids the message lists, or `read_notebook` to see them.',
  },
  NOT_A_CODE_CELL: {
    meaning: 'A code-cell tool (`edit_cell`, `run_cell`) was given a markdown cell.',
    next: 'Use `edit_markdown` for markdown cells.',
  },
  NOT_A_MARKDOWN_CELL: {
    meaning: '`edit_markdown` was given a code cell.',
    next: 'Use `edit_cell` for code cells.',
  },
  PATH_OUTSIDE_NOTEBOOK_DIR: {
    meaning: 'A notebook path resolves outside the notebook directory (`..`, an absolute path elsewhere, a symlink that leaves).',
    next: 'Pass a path inside the notebook directory; `list_notebooks` shows what is there.',
  },
  NOTEBOOK_NOT_FOUND: {
    meaning: 'The notebook path does not exist or is not a file.',
    next: 'Check the path with `list_notebooks`, or start a new notebook with `start_new_session`.',
  },
  NOTEBOOK_INVALID: {
    meaning: 'The file is not a notebook jlab-mcp can use (not JSON, not UTF-8, nbformat 3 or 5, a malformed cell); it was left untouched.',
    next: 'Repair the file (the message says what is wrong) or start a new notebook.',
  },
  NOTEBOOK_WRITE_FAILED: {
    meaning: 'The notebook could not be written (disk full, permissions, no free name); the previous valid file stays in place.',
    next: 'Tell the user what the message says (e.g. free disk space); the next save tries again.',
  },
  NOTEBOOK_BUSY: {
    meaning: 'Another session, or another start call still running, already has this notebook open.',
    next: 'Use that session (`list_sessions` shows it), or wait for the other call to return.',
  },
  SERVER_START_FAILED: {
    meaning: 'The Jupyter server (local process, external URL or SLURM job) did not come up; the message carries its stderr or job log tail.',
    next: 'Tell the user the cause shown; the next tool call tries to start it again.',
  },
  JUPYTER_TOKEN_REJECTED: {
    meaning: 'The external Jupyter or JupyterHub server refused the configured token.',
    next: 'Ask the user for a new token (JupyterHub: `/hub/token`) and to restart jlab-mcp.',
  },
  JUPYTER_UNREACHABLE: {
    meaning: 'Nothing answers at the external server URL, or the hub says the user server is not running.',
    next: 'Ask the user to start the server (the message names the hub spawn URL) or fix `JLAB_MCP_JUPYTER_URL`; the next call tries again.',
  },
  SERVER_UNAVAILABLE: {
    meaning: 'The Jupyter server did not answer a request, refused it, or presented a certificate other than the pinned one.',
    next: 'Try again; the next call checks the server again. A pin mismatch is for the user to look into.',
  },
  SERVER_LOST: {
    meaning: 'The Jupyter server of this session is gone (killed, job cancelled, walltime); the notebook is intact.',
    next: 'Call the `start_session_resume_notebook` the message gives to re-run the notebook on a new kernel.',
  },
  KERNEL_START_FAILED: {
    meaning: 'A kernel could not be started or did not answer its first request in time.',
    next: 'Check the kernel name with `list_kernels`, or try again.',
  },
  KERNEL_DIED: {
    meaning: "The session's kernel died (out of memory, a crash) and cannot run code; the notebook is intact.",
    next: 'Call the `start_session_resume_notebook` the message gives to re-run the notebook on a new kernel.',
  },
  KERNEL_UNAVAILABLE: {
    meaning: 'The kernel is busy (a cell, a replay, another client) or did not answer a request that runs without a cell.',
    next: 'Wait with `wait_for_cell`, or stop the cell with `interrupt_kernel`, then try again.',
  },
  UNKNOWN_KERNEL: {
    meaning: 'The Jupyter server does not know the kernel (no such kernelspec, or the kernel was deleted from outside).',
    next: 'Pick a name from `list_kernels`, or resume the notebook on a new kernel.',
  },
  EXECUTION_FAILED: {
    meaning: 'jlab-mcp could not run or read back a request inside the kernel (not an error in your cell: those are cell results).',
    next: 'Try again; if it repeats, report it with the log on stderr.',
  },
  TIMEOUT: {
    meaning: 'A request to the Jupyter server, or a step with a deadline, did not finish in time (`JLAB_MCP_REQUEST_TIMEOUT` and the like).',
    next: 'Try again; if the server is slow, the user can raise the setting the message names.',
  },
  SHUTTING_DOWN: {
    meaning: 'jlab-mcp, or the session, is shutting down and takes no new work.',
    next: 'Start a new session once the client has restarted jlab-mcp; notebooks are saved.',
  },
  CONFIG_INVALID: {
    meaning: "jlab-mcp's configuration (settings, SLURM profiles, token files) is invalid.",
    next: 'Tell the user which setting to fix (the message names it); they restart jlab-mcp afterwards.',
  },
  SWEEP_TOO_LARGE: {
    meaning: 'A sweep plans more runs than `JLAB_MCP_SWEEP_MAX_RUNS` allows (the message gives the count), or more than the scheduler takes in one array.',
    next: 'Split the grid into smaller sweeps, or ask the user to raise the setting.',
  },
  SWEEP_EXISTS: {
    meaning: 'The experiment folder of a `start_sweep` already holds a sweep (the message names its id).',
    next: 'Pick another `experiment_name`, or use `sweep_status` / `rerun_sweep` on the existing sweep.',
  },
  UNKNOWN_SWEEP: {
    meaning: 'No sweep has this `sweep_id`.',
    next: 'Call `list_sweeps` for the known ones.',
  },
  UNSUPPORTED_LANGUAGE: {
    meaning: "A sweep's notebook is in a kernel language whose parameters jlab-mcp cannot write (Python, R and Julia are supported).",
    next: 'Use a Python, R or Julia notebook for sweeps.',
  },
  SWEEP_SUBMIT_FAILED: {
    meaning: "Slurm refused a sweep's array job, or sbatch did not answer (the message quotes Slurm); no run of this attempt was submitted.",
    next: 'Tell the user what Slurm said (partition, time limit, account, array size); fix the profile or the arguments and start the sweep again.',
  },
  INTERNAL: {
    meaning: 'A bug in jlab-mcp.',
    next: 'Report it with the log on stderr; the session may still work, try the call again.',
  },
} as const satisfies Record<string, ErrorCodeDoc>;

/** A stable, machine-readable error code; the keys of `ERROR_CODES`. */
export type ErrorCode = keyof typeof ERROR_CODES;
