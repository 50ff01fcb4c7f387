import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { backendResources } from '../../introspect/hostResources.js';
import { kernelResources } from '../../introspect/resources.js';
import { JlabError } from '../../util/errors.js';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { unlisted } from './compactListing.js';
import { nonEmpty } from './schemas.js';

const bytes = z.number().nullable().optional();

export const kernelResourcesOutput = z.looseObject({
  session_id: unlisted(z.string().optional()),
  backend: unlisted(z.string()),
  measured: unlisted(z.boolean()),
  summary: z.string(),
  hostname: unlisted(z.string().optional()),
  cpu: z.looseObject({ count: z.number().nullable(), usable: z.number().optional(), load_avg: z.array(z.number()).optional() }).optional(),
  memory: z.looseObject({ total_bytes: z.number(), available_bytes: bytes, used_bytes: bytes }).nullable().optional(),
  kernel_process: z.looseObject({ pid: z.number(), rss_bytes: bytes, peak_rss_bytes: bytes }).optional(),
  gpu: z
    .looseObject({
      available: z.boolean(),
      reason: z.string().optional(),
      gpus: z
        .array(
          z.looseObject({
            index: z.number(),
            name: z.string(),
            memory_used_mib: z.number().nullable(),
            memory_total_mib: z.number().nullable(),
            utilization_percent: z.number().nullable(),
            used_by_this_kernel: z.boolean(),
            processes: z.array(z.looseObject({ pid: z.number(), process_name: z.string(), used_memory_mib: z.number().nullable(), this_kernel: z.boolean() })),
          }),
        )
        .optional(),
    })
    .optional(),
  slurm: z.looseObject({ job_id: z.unknown(), seconds_left: z.number().optional() }).optional(),
});

export function registerKernelResources(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'kernel_resources',
    {
      description:
        "CPUs, memory, the kernel's RSS and GPUs (nvidia-smi, this kernel's processes) of the machine the kernel runs on, without a cell; under SLURM also the job's allocation and time left. While a cell runs it answers at once that the kernel is busy.",
      inputSchema: z.object({
        session_id: nonEmpty().optional().describe('Optional when one session is open.'),
      }),
      outputSchema: kernelResourcesOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id }) => {
      await ctx.sessions.ready();
      if (session_id) return jsonResult(await kernelResources(await ctx.sessions.use(session_id)));
      const open = ctx.sessions.list().filter((session) => !session.lost);
      if (open.length === 1) return jsonResult(await kernelResources(await ctx.sessions.use(open[0]!.id)));
      if (open.length > 1) {
        throw new JlabError('INVALID_ARGUMENT', `${open.length} sessions are open; say which kernel to measure.`, {
          hint: `Pass session_id: one of ${open.map((session) => session.id).join(', ')}.`,
        });
      }
      return jsonResult(await backendResources(ctx.sessions.servers.get().describe().backend as Record<string, unknown>));
    }),
  );
}
