import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { inspectVariables } from '../../introspect/variables.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { unlisted } from './compactListing.js';
import { sessionId } from './schemas.js';

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'names are variable names, optionally with attributes (df, model.fc) — not expressions')
  .max(200);

const variable = z.looseObject({
  name: z.string(),
  type: z.string().optional(),
  shape: z.array(z.number()).optional(),
  dtype: z.string().optional(),
  device: z.string().nullable().optional(),
  memory_bytes: z.number().optional(),
  len: z.number().optional(),
  repr: z.string().optional(),
});

export const inspectVariablesOutput = z.looseObject({
  session_id: unlisted(z.string()),
  language: unlisted(z.string()),
  mode: unlisted(z.enum(['list', 'detail', 'inspect_request', 'unsupported'])),
  variables: z.array(variable),
  modules: z.array(z.string()).optional(),
  callables: z.array(z.string()).optional(),
  missing: z.array(z.looseObject({ name: z.string(), error: z.string() })).optional(),
  total: unlisted(z.number().optional()),
  omitted: unlisted(z.number().optional()),
  truncated: unlisted(z.boolean()),
  note: unlisted(z.string().optional()),
});

export function registerInspectVariables(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'inspect_variables',
    {
      description:
        "The kernel's variables without a cell (the notebook and execution count do not change): each one's type, short repr and size (shape, dtype, device, memory of arrays, frames, tensors), imported modules, functions; with names, those in depth. Full for Python; other kernels answer by the inspect request. While a cell runs it answers at once that the kernel is busy.",
      inputSchema: z.object({
        session_id: sessionId,
        names: z.array(variableName).min(1).max(20).optional().describe('e.g. ["df", "model.fc"]. Default: list all.'),
      }),
      outputSchema: inspectVariablesOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded(async ({ session_id, names }) => {
      const session = await ctx.sessions.use(session_id);
      return jsonResult(await inspectVariables(session, names, ctx.budget.textBudget));
    }),
  );
}
