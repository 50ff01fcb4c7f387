import path from 'node:path';
import type { RunMode } from '../config/load.js';
import type { Config } from '../config/settings.js';
import type { BackendFactory } from '../sessions/serverPool.js';
import { ExternalBackend } from './external/externalBackend.js';
import { LocalBackend } from './local/localBackend.js';
import { JupyterSetup } from '../setup/jupyterSetup.js';
import { batchSettingsFromConfig, slurmOptionsFromConfig } from './slurm/fromConfig.js';
import { loadSlurmProfiles } from './slurm/profiles.js';
import { SlurmBackend } from './slurm/slurmBackend.js';
import type { JupyterBackend } from './types.js';

/** A factory for a backend without profiles: every server is made the same way. */
function single(create: () => JupyterBackend): BackendFactory {
  return { profiles: [], defaultProfile: 'default', create };
}

/**
 * The backends of the chosen run mode. SLURM with a profiles file gets one backend (one job)
 * per profile in use; everything else has a single unnamed profile.
 */
export async function makeBackendFactory(config: Config, mode: RunMode): Promise<BackendFactory> {
  const startTimeoutMs = config.serverStartTimeout * 1000;
  const requestTimeoutMs = config.requestTimeout * 1000;
  if (mode === 'external') {
    return single(() => new ExternalBackend({ url: config.jupyterUrl!, token: config.jupyterToken ?? '', startTimeoutMs, requestTimeoutMs }));
  }
  if (mode === 'local') {
    // Only the local backend installs Jupyter (JLAB_MCP_SETUP): the others run it elsewhere.
    const setup = new JupyterSetup({ policy: config.setup, configuredCommand: config.jupyterCommand, jupyterLab: config.jupyterLab });
    return single(
      () =>
        new LocalBackend({
          jupyterCommand: config.jupyterCommand,
          rootDir: config.notebookDir,
          startTimeoutMs,
          requestTimeoutMs,
          idleTimeoutSeconds: config.idleTimeout,
          jupyterLab: config.jupyterLab,
          setup,
        }),
    );
  }
  if (!config.slurmProfiles) return single(() => new SlurmBackend(slurmOptionsFromConfig(config)));
  const { profiles, defaultProfile } = await loadSlurmProfiles(path.resolve(config.slurmProfiles), batchSettingsFromConfig(config));
  return {
    profiles: [...profiles.keys()],
    defaultProfile,
    create: (name) => new SlurmBackend(slurmOptionsFromConfig(config, profiles.get(name)!)),
  };
}
