import type { CallToolResult } from '@modelcontextprotocol/server';
import { JlabError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { redactSecrets } from '../util/secrets.js';

/** A JSON object result: pretty text for the agent, and the same object as structured content. */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: 'text', text: redactSecrets(JSON.stringify(value, null, 2)) }],
    structuredContent: JSON.parse(redactSecrets(JSON.stringify(value))) as Record<string, unknown>,
  };
}

/** Where an error result carries its code, message, hint and context for programs: `_meta["jlab-mcp/error"]`. */
export const ERROR_META_KEY = 'jlab-mcp/error';

/**
 * Any failure as an `isError` result that names the code and the next step. Never a protocol error.
 * It carries no structuredContent: a tool's outputSchema describes its success, and the TypeScript
 * SDK 1.x client checks structuredContent against it even on errors (a mismatch becomes "MCP
 * error -32602" and the agent never sees our text), while an error shape that fitted every schema
 * would make each schema's fields optional. The text holds code, message and next step; the
 * same facts, as data, ride in `_meta`, which no client validates.
 */
export function errorResult(error: unknown): CallToolResult {
  const jlab =
    error instanceof JlabError
      ? error
      : new JlabError('INTERNAL', `Unexpected error: ${messageOf(error)}`, { hint: 'This is a bug in jlab-mcp; the log on stderr has details.' });
  if (jlab.code === 'INTERNAL') log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  const lines = [`Error [${jlab.code}]: ${jlab.message}`];
  if (jlab.hint) lines.push(`Next step: ${jlab.hint}`);
  const context = Object.fromEntries(Object.entries(jlab.context).filter(([, v]) => v !== undefined));
  const text = redactSecrets(lines.join('\n'));
  return {
    isError: true,
    content: [{ type: 'text', text }],
    _meta: {
      [ERROR_META_KEY]: JSON.parse(redactSecrets(JSON.stringify({ code: jlab.code, message: jlab.message, hint: jlab.hint, context }))) as Record<
        string,
        unknown
      >,
    },
  };
}

/** Wraps a tool handler so that whatever it throws becomes an error result. */
export function guarded<A extends unknown[]>(handler: (...args: A) => Promise<CallToolResult>): (...args: A) => Promise<CallToolResult> {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (error) {
      return errorResult(error);
    }
  };
}
