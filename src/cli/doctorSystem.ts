import type { RunMode } from '../config/load.js';
import { which } from '../util/which.js';
import { lastLine, note, ok, problem, run, type Check } from './doctorCheck.js';

const SLURM_COMMANDS = ['sbatch', 'squeue', 'scancel', 'sinfo'] as const;
const SINFO_TIMEOUT_MS = 10_000;

export function checkNode(version = process.versions.node): Check {
  const major = Number(version.split('.')[0]);
  return major >= 20 ? ok('node', `v${version}`) : problem('node', `v${version} is older than 20`, 'install Node.js 20 or later (https://nodejs.org)');
}

/** The Slurm commands and whether Slurm answers; a problem only when the run mode is slurm. */
export async function checkSlurm(mode: RunMode, env: NodeJS.ProcessEnv): Promise<Check> {
  const name = 'slurm';
  const missing = SLURM_COMMANDS.filter((command) => !which(command, env.PATH ?? ''));
  if (mode !== 'slurm') {
    return note(
      name,
      missing.length === SLURM_COMMANDS.length
        ? 'no Slurm commands on PATH (only needed for JLAB_MCP_RUN_MODE=slurm)'
        : `not used in ${mode} mode${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
    );
  }
  if (missing.length)
    return problem(
      name,
      `missing on PATH: ${missing.join(', ')}`,
      'run jlab-mcp on a login node with Slurm (module load slurm?), or set JLAB_MCP_RUN_MODE=local',
    );
  const sinfo = await run('sinfo', ['-h', '-o', '%P %a %D'], SINFO_TIMEOUT_MS, env);
  if (!sinfo.ok)
    return problem(name, `sinfo failed (${sinfo.why}): ${lastLine(sinfo.stderr)}`, 'check that slurmctld runs and this node can reach it (scontrol ping)');
  const partitions = sinfo.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter(Boolean);
  return ok(name, `${SLURM_COMMANDS.join(', ')} found; Slurm answers (partitions: ${partitions.join(', ') || 'none'})`);
}
