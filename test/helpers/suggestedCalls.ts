/**
 * Finds the calls jlab-mcp suggests in a text — `tool(name="value", force=true)`, as
 * src/mcp/suggestedCall.ts writes them — and reads their arguments back, so a test can make
 * each call exactly as an agent that follows the text literally would.
 */

export interface SuggestedCall {
  tool: string;
  args: Record<string, unknown>;
  /** The call as it stood in the text. */
  written: string;
}

/** Every tool jlab-mcp registers (a name followed by `(` in a text is a call only when it is one of these). */
export const TOOL_NAMES = [
  'start_new_session',
  'start_session_resume_notebook',
  'start_session_continue_notebook',
  'execute_code',
  'edit_cell',
  'run_cell',
  'wait_for_cell',
  'interrupt_kernel',
  'restart_kernel',
  'delete_cell',
  'add_markdown',
  'edit_markdown',
  'shutdown_session',
  'list_sessions',
  'list_kernels',
  'inspect_variables',
  'kernel_resources',
  'list_notebooks',
  'read_notebook',
];

/** The calls in `text`, in order. A tool name followed by `(` that does not parse as a call throws: the text would mislead an agent. */
export function suggestedCallsIn(text: string): SuggestedCall[] {
  const calls: SuggestedCall[] = [];
  const start = new RegExp(`\\b(${TOOL_NAMES.join('|')})\\(`, 'g');
  for (let match = start.exec(text); match; match = start.exec(text)) {
    const { args, end } = parseArguments(text, match.index + match[0].length, match[0]);
    calls.push({ tool: match[1]!, args, written: text.slice(match.index, end) });
    start.lastIndex = end;
  }
  return calls;
}

/** `name=<JSON literal>` pairs separated by `, ` up to the closing parenthesis; returns the index after it. */
function parseArguments(text: string, from: number, opening: string): { args: Record<string, unknown>; end: number } {
  const args: Record<string, unknown> = {};
  let at = from;
  const fail = (why: string): never => {
    throw new Error(`not a valid call at "${opening}${text.slice(from, from + 120)}": ${why}`);
  };
  if (text[at] === ')') return { args, end: at + 1 };
  for (;;) {
    const name = /^([a-z_]+)=/.exec(text.slice(at));
    if (!name) fail('expected name=value');
    at += name![0].length;
    const literal = jsonLiteralAt(text, at) ?? fail('the value is not a JSON literal');
    args[name![1]!] = JSON.parse(literal!);
    at += literal!.length;
    if (text[at] === ')') return { args, end: at + 1 };
    if (text.slice(at, at + 2) !== ', ') fail('expected ", " or ")"');
    at += 2;
  }
}

/** The JSON string, number, boolean or null that starts at `at`. */
function jsonLiteralAt(text: string, at: number): string | undefined {
  if (text[at] === '"') {
    for (let i = at + 1; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return text.slice(at, i + 1);
    }
    return undefined;
  }
  return /^(?:true|false|null|-?\d+(?:\.\d+)?)/.exec(text.slice(at))?.[0];
}
