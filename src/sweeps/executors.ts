import type { RunMode } from '../config/load.js';
import type { Config } from '../config/settings.js';
import type { ServerPool } from '../sessions/serverPool.js';
import { JlabError } from '../util/errors.js';
import { LocalSweepExecutor } from './localExecutor.js';
import type { ExecutorKind } from './sweepManager.js';
import type { SweepExecutor } from './types.js';

/** The sweep executors of this jlab-mcp, made on first use, and the exit of those that run in this process. */
export function sweepExecutors(
  config: Config,
  mode: RunMode,
  servers: ServerPool,
): { executorFor(kind: ExecutorKind): SweepExecutor; shutdown(): Promise<void> } {
  let local: LocalSweepExecutor | undefined;
  let slurm: SweepExecutor | undefined;
  return {
    executorFor(kind) {
      if (kind === 'slurm') {
        // LEAD: wire at merge — slurm ??= createSlurmSweepExecutor(…) from './slurm/index.js' (branch sweepslurm).
        if (!slurm)
          throw new JlabError('CONFIG_INVALID', 'Sweeps on SLURM are not part of this build yet.', {
            hint: 'Run jlab-mcp with JLAB_MCP_RUN_MODE=local for sweeps.',
          });
        return slurm;
      }
      if (kind !== mode) {
        throw new JlabError('CONFIG_INVALID', `This sweep ran on the ${kind} backend; this jlab-mcp runs ${mode}.`, {
          hint: `Its notebooks and results are in its experiment folder; start jlab-mcp in ${kind} mode to follow it.`,
        });
      }
      local ??= new LocalSweepExecutor({
        kind,
        servers,
        kernelStartTimeoutMs: config.kernelStartTimeout * 1000,
        defaultKernel: config.defaultKernel,
        outputLimit: config.notebookOutputLimit,
        saveIntervalMs: config.saveInterval * 1000,
      });
      return local;
    },
    async shutdown() {
      await local?.shutdown();
    },
  };
}
