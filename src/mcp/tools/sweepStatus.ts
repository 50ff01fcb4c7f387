import { readFile } from 'node:fs/promises';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { resultsPaths } from '../../sweeps/results.js';
import { JlabError } from '../../util/errors.js';
import { guarded } from '../results.js';
import { SWEEP_RESULTS_TEMPLATE, sweepOutput, sweepReply } from './sweepReply.js';

export const sweepId = z.string().min(1).describe('Sweep id from start_sweep or list_sweeps.');

export function registerSweepStatus(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'sweep_status',
    {
      description:
        "Each run's state, duration, node, array task id, first error line and recorded values; counts per state; the results table (or a link to results.csv) and a plot of a recorded number against the parameter that varies most.",
      inputSchema: z.object({ sweep_id: sweepId }),
      outputSchema: sweepOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async ({ sweep_id }) => sweepReply(await ctx.sweeps.status(sweep_id), ctx.budget)),
  );
  // What sweep_status links when the table is longer than the output budget.
  server.registerResource(
    'sweep-results',
    new ResourceTemplate(SWEEP_RESULTS_TEMPLATE, { list: undefined }),
    { title: 'Sweep results', description: "A sweep's whole results table (results.csv).", mimeType: 'text/csv' },
    async (uri, variables) => {
      try {
        const record = ctx.sweeps.get(decodeURIComponent(String(variables.sweep_id)));
        return { contents: [{ uri: uri.href, mimeType: 'text/csv', text: await readFile(resultsPaths(record.experimentDir).csv, 'utf8') }] };
      } catch (error) {
        // A resource read fails as a protocol error, which carries a message only.
        if (error instanceof JlabError) throw new Error(`Error [${error.code}]: ${error.message}`);
        throw error;
      }
    },
  );
}
