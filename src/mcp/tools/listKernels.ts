import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { profile } from './schemas.js';
import { listKernelsOutput } from './outputSchemas.js';

export function registerListKernels(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_kernels',
    {
      description: 'Kernelspecs the Jupyter server offers; pass a name as kernel_name to start_new_session.',
      inputSchema: z.object({ profile }),
      outputSchema: listKernelsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async ({ profile: name }) => {
      const rest = await ctx.sessions.servers.get(name).ready();
      const specs = await rest.kernelSpecs();
      return jsonResult({ default: specs.default, kernels: specs.specs });
    }),
  );
}
