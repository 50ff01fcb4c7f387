import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { inspectVariables } from '../../introspect/variables.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
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
  session_id: z.string(),
  language: z.string(),
  mode: z.enum(['list', 'detail', 'inspect_request', 'unsupported']),
  variables: z.array(variable),
  modules: z.array(z.string()).optional(),
  callables: z.array(z.string()).optional(),
  missing: z.array(z.looseObject({ name: z.string(), error: z.string() })).optional(),
  total: z.number().optional(),
  omitted: z.number().optional(),
  truncated: z.boolean(),
  note: z.string().optional(),
});

export function registerInspectVariables(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'inspect_variables',
    {
      title: 'Inspect kernel variables',
      description:
        'The kernel\'s variables without running a cell: nothing lands in the notebook, the execution count and history do not change. Without names: every user variable with its type, a short repr and size (numpy/pandas/torch/xarray objects: shape, dtype, device, memory), plus the names of imported modules and defined functions/classes. With names (e.g. ["df", "model.fc"]): those in depth (longer repr, columns, keys, attributes, signature). Python kernels give the full answer; other kernels describe a named variable in their own words (the protocol\'s inspect request). Answers at once that the kernel is busy while a cell runs.',
      inputSchema: z.object({
        session_id: sessionId,
        names: z
          .array(variableName)
          .min(1)
          .max(20)
          .optional()
          .describe('Variables to describe in depth (plain names or attribute paths such as model.fc). Omit to list all.'),
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
