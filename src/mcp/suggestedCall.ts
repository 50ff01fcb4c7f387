/** The tools a hint, a note or list_sessions may tell the agent to call. */
export type ToolName =
  | 'start_new_session'
  | 'start_session_resume_notebook'
  | 'start_session_continue_notebook'
  | 'execute_code'
  | 'edit_cell'
  | 'run_cell'
  | 'wait_for_cell'
  | 'interrupt_kernel'
  | 'restart_kernel'
  | 'delete_cell'
  | 'add_markdown'
  | 'edit_markdown'
  | 'shutdown_session'
  | 'list_sessions'
  | 'list_kernels'
  | 'inspect_variables'
  | 'kernel_resources'
  | 'list_notebooks'
  | 'read_notebook'
  | 'sweep_status';

export type CallArguments = Record<string, string | number | boolean | undefined>;

/**
 * A call the agent can make as written: `tool(name="value", force=true)`. Every value is a JSON
 * literal (strings quoted and escaped by JSON.stringify), so a path with quotes, backslashes or
 * newlines still reads back as the same string; undefined arguments are left out. Every suggested
 * call in hints, notes and list_sessions is written here, so a test can follow each one literally.
 */
export function suggestedCall(tool: ToolName, args: CallArguments = {}): string {
  const written = Object.entries(args)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `${tool}(${written.join(', ')})`;
}
