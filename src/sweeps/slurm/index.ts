/**
 * The SLURM sweep executor, made from the application's configuration: the job settings of
 * each profile are those of the interactive job (JLAB_MCP_SLURM_* and JLAB_MCP_SLURM_PROFILES).
 */
import path from 'node:path';
import type { Config } from '../../config/settings.js';
import type { BatchSettings } from '../../backends/slurm/batchScript.js';
import { batchSettingsFromConfig } from '../../backends/slurm/fromConfig.js';
import { loadSlurmProfiles } from '../../backends/slurm/profiles.js';
import { JlabError } from '../../util/errors.js';
import { SlurmSweepExecutor } from './arrayExecutor.js';

export { SlurmSweepExecutor, type SlurmSweepExecutorOptions } from './arrayExecutor.js';

/**
 * @param recordHelperPython the record helper's Python (RECORD_HELPER_PYTHON of src/sweeps/recordHelper.ts).
 * @param config `slurmProfiles` (a profiles file) and the JLAB_MCP_SLURM_* job settings; `requestTimeout` bounds each Slurm command.
 */
export async function createSlurmSweepExecutor(config: Config, recordHelperPython: string): Promise<SlurmSweepExecutor> {
  const base = batchSettingsFromConfig(config);
  const loaded = config.slurmProfiles ? await loadSlurmProfiles(path.resolve(config.slurmProfiles), base) : undefined;
  const settingsFor = (profile: string | undefined): BatchSettings => {
    if (!loaded) {
      if (profile !== undefined) {
        throw new JlabError('INVALID_ARGUMENT', `Unknown profile "${profile}".`, {
          hint: 'Profiles exist only with JLAB_MCP_SLURM_PROFILES set; omit the profile argument.',
        });
      }
      return base;
    }
    const settings = loaded.profiles.get(profile ?? loaded.defaultProfile);
    if (!settings) {
      throw new JlabError('INVALID_ARGUMENT', `Unknown profile "${profile}".`, {
        hint: `Profiles: ${[...loaded.profiles.keys()].join(', ')}; omit profile for the default (${loaded.defaultProfile}).`,
      });
    }
    return settings;
  };
  return new SlurmSweepExecutor({ settingsFor, recordHelperPython, commandTimeoutMs: Math.max(30, config.requestTimeout) * 1000 });
}
