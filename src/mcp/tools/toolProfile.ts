import { JlabError } from '../../util/errors.js';

/**
 * The `core` profile of JLAB_MCP_TOOLS: the reference's seven tools, plus what an agent needs
 * to live with a long cell (wait_for_cell, interrupt_kernel) and to see a person's edits
 * (read_notebook).
 */
export const CORE_TOOLS = [
  'start_new_session',
  'start_session_resume_notebook',
  'start_session_continue_notebook',
  'execute_code',
  'edit_cell',
  'add_markdown',
  'shutdown_session',
  'wait_for_cell',
  'interrupt_kernel',
  'read_notebook',
] as const;

/**
 * The tools to register for a JLAB_MCP_TOOLS value: `all`, or a comma list of tool names in
 * which `core` stands for the core tools (`core` alone, or `core,list_kernels`). `known` is every
 * tool the server has. The set is fixed for the server's life; changing it at run time would have
 * to send `notifications/tools/list_changed` (nothing does today).
 */
export function selectTools(setting: string, known: readonly string[]): ReadonlySet<string> {
  const names = setting
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .flatMap((name) => (name === 'core' ? CORE_TOOLS : [name]));
  if (names.includes('all')) return new Set(known);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length || names.length === 0) {
    throw new JlabError(
      'CONFIG_INVALID',
      `JLAB_MCP_TOOLS: ${unknown.length ? `unknown tool ${unknown.join(', ')}` : 'no tool named'}. Give all, core, or a comma list of: ${known.join(', ')}.`,
    );
  }
  return new Set(names);
}
