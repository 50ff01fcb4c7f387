import type { RunMode } from '../config/load.js';
import type { Config } from '../config/settings.js';
import type { ServerPool } from '../sessions/serverPool.js';
import { JlabError } from '../util/errors.js';
import { LocalSweepExecutor } from './localExecutor.js';
import { RECORD_HELPER_PYTHON } from './recordHelper.js';
import { createSlurmSweepExecutor } from './slurm/index.js';
import type { ExecutorKind } from './sweepManager.js';
import type { SweepExecutor } from './types.js';

/** The sweep executors of this jlab-mcp, made on first use, and the exit of those that run in this process. */
export async function sweepExecutors(
  config: Config,
  mode: RunMode,
  servers: ServerPool,
): Promise<{ executorFor(kind: ExecutorKind): SweepExecutor; shutdown(): Promise<void> }> {
  let local: LocalSweepExecutor | undefined;
  // Made at start in SLURM mode (it reads the profiles file); a bad file fails sweeps, not the start: the sessions say so too.
  let slurm: SweepExecutor | undefined;
  let slurmError: unknown;
  if (mode === 'slurm') {
    try {
      slurm = await createSlurmSweepExecutor(config, RECORD_HELPER_PYTHON);
    } catch (error) {
      slurmError = error;
    }
  }
  return {
    executorFor(kind) {
      if (kind === 'slurm') {
        if (slurm) return slurm;
        if (slurmError) throw slurmError;
        throw new JlabError('CONFIG_INVALID', `This sweep ran on SLURM; this jlab-mcp runs ${mode}.`, {
          hint: 'Its notebooks and results are in its experiment folder; start jlab-mcp in slurm mode to follow it.',
        });
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
