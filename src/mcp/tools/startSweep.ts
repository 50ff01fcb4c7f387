import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { startProgress } from '../progress.js';
import { resultRow } from '../../sweeps/results.js';
import { guarded } from '../results.js';
import { MAX_WAIT_SECONDS, experimentName, profile } from './schemas.js';
import { sweepOutput, sweepReply } from './sweepReply.js';

/** Parameter sets a dry run shows. */
const SHOWN_SETS = 5;

export function registerStartSweep(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'start_sweep',
    {
      description:
        "Run a notebook once per parameter set (papermill's parameters cell), each run in <experiment_name>/run-0000.ipynb; give parameters (a grid) or runs, not both. Values from record(name, value) or scrapbook's glue go to results.csv. Returns the sweep id at once (a task ends with the last run). dry_run: the plan only.",
      inputSchema: z.object({
        notebook_path: z.string().min(1).describe('The notebook to sweep, inside the notebook directory.'),
        experiment_name: experimentName.describe('The folder (beside the notebook) for the run notebooks and results.'),
        parameters: z.record(z.string(), z.array(z.unknown())).optional().describe('Grid: name → list of values.'),
        runs: z.array(z.record(z.string(), z.unknown())).optional().describe('Explicit parameter sets.'),
        max_concurrent: z.number().int().min(1).optional().describe('Runs at once (default: CPUs here; SLURM: array %N).'),
        profile,
        cell_timeout: z.number().positive().max(MAX_WAIT_SECONDS).optional().describe('Seconds one cell may run; past it the run ends "timeout".'),
        dry_run: z.boolean().optional(),
        timeout: z.number().min(0).max(MAX_WAIT_SECONDS).optional().describe('Seconds to wait for every run to end (default 0).'),
      }),
      outputSchema: sweepOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async (args, requestCtx) => {
      if (args.profile !== undefined) ctx.sessions.servers.get(args.profile); // an unknown profile is refused before anything is written
      const { record, plan, injectedAtTop } = await ctx.sweeps.start({
        notebookPath: args.notebook_path,
        experimentName: args.experiment_name,
        parameters: args.parameters,
        runs: args.runs,
        maxConcurrent: args.max_concurrent,
        profile: args.profile,
        cellTimeoutS: args.cell_timeout,
        dryRun: args.dry_run,
      });
      const notes = injectedAtTop ? ['The notebook has no cell tagged "parameters": each run\'s parameters go in a new cell at the top.'] : [];
      const fields = {
        run_count: record.runs.length,
        ...(plan.command !== undefined && { command: plan.command }),
        ...(plan.startEstimate !== undefined && { start_estimate: plan.startEstimate }),
      };
      if (args.dry_run) {
        const planned = record.runs.slice(0, SHOWN_SETS).map((run) => resultRow(run, undefined, {}));
        notes.push(`Dry run: nothing was written or submitted; ${record.runs.length} runs would write ${record.experimentDir}/run-*.ipynb.`);
        return sweepReply({ record, rows: planned }, ctx.budget, {
          notes,
          fields: { ...fields, dry_run: true, max_concurrent: record.maxConcurrent },
          plot: false,
          planned: true,
        });
      }
      let view = await ctx.sweeps.status(record.id);
      const waitS = args.timeout ?? 0;
      if (waitS > 0) {
        let latest = 'starting';
        const stop = startProgress(requestCtx, ctx.progressIntervalMs, () => latest, true);
        const deadline = AbortSignal.any([requestCtx.mcpReq.signal, AbortSignal.timeout(waitS * 1000)]);
        try {
          view = await ctx.sweeps.waitUntilEnded(record.id, deadline, (message) => (latest = message));
        } finally {
          stop();
        }
      }
      return sweepReply(view, ctx.budget, { notes, fields, plot: waitS > 0 });
    }),
  );
}
