import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../config/settings.js';
import { splitWords } from '../../util/shell.js';
import type { BatchSettings } from './batchScript.js';
import type { SlurmBackendOptions } from './slurmBackend.js';

/** Default parent of the per-job directories: in $HOME, which clusters share with compute nodes. */
export function defaultSlurmStateDir(): string {
  return path.join(os.homedir(), '.jlab-mcp', 'slurm');
}

/** The job settings from env/flags (profiles are laid over these). */
export function batchSettingsFromConfig(config: Config): BatchSettings {
  return {
    partition: config.slurmPartition,
    gres: config.slurmGres === '' ? undefined : config.slurmGres,
    cpus: config.slurmCpus,
    mem: config.slurmMem,
    time: config.slurmTime,
    modules: config.slurmModules?.split(/\s+/).filter(Boolean),
    account: config.slurmAccount,
    qos: config.slurmQos,
    constraint: config.slurmConstraint,
    extraArgs: config.slurmExtraArgs ? splitWords(config.slurmExtraArgs, 'JLAB_MCP_SLURM_EXTRA_ARGS') : undefined,
    setup: config.slurmSetup,
    jupyterCommand: splitWords(config.slurmJupyterCommand, 'JLAB_MCP_SLURM_JUPYTER_CMD'),
    tls: config.slurmTls,
    jupyterLab: config.jupyterLab,
  };
}

/** Everything a SlurmBackend needs; `batch` overrides the job settings (e.g. a profile's). */
export function slurmOptionsFromConfig(config: Config, batch: BatchSettings = batchSettingsFromConfig(config)): SlurmBackendOptions {
  return {
    batch,
    rootDir: config.notebookDir,
    stateDir: config.slurmStateDir ? path.resolve(config.slurmStateDir) : defaultSlurmStateDir(),
    queueTimeoutMs: config.queueTimeout * 1000,
    readyTimeoutMs: config.readyTimeout * 1000,
    // Without jlab-mcp the job lives as long as a local server would: the idle timeout.
    heartbeatTimeoutS: config.slurmHeartbeatTimeout ?? Math.max(6, config.idleTimeout),
    idleTimeoutS: config.idleTimeout,
    keepOnQueueTimeout: config.slurmKeepOnQueueTimeout,
    requestTimeoutMs: config.requestTimeout * 1000,
    walltime: { warningS: config.walltimeWarning, policy: config.onWalltime, extendMinutes: config.walltimeExtend },
  };
}
