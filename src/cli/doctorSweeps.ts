/**
 * Whether a sweep's array tasks can run their notebooks: nbclient importable by the Python of
 * the job's Jupyter command, after the job's module loads and setup. Checked on this node with
 * the same lines the array script runs (login and compute nodes share software on clusters that
 * load it from modules or a shared venv); only in slurm mode, the only one that needs it.
 */
import type { BatchSettings } from '../backends/slurm/batchScript.js';
import { environmentLines } from '../backends/slurm/scriptParts.js';
import { jobPythonLines } from '../sweeps/slurm/arrayScript.js';
import { lastLine, ok, problem, run, type Check } from './doctorCheck.js';

const CHECK_TIMEOUT_MS = 60_000;

/** @param settings the job settings of the default SLURM profile. */
export async function checkSweepRunner(settings: BatchSettings, env: NodeJS.ProcessEnv): Promise<Check> {
  const name = 'sweeps (nbclient)';
  const script = [
    'set -u',
    'say() { printf \'%s\\n\' "$*" >&2; }',
    ...environmentLines(settings),
    ...jobPythonLines(settings),
    '"$PY" -c "import nbclient, sys; print(sys.executable, nbclient.__version__)"',
  ].join('\n');
  const result = await run('bash', ['-c', script], CHECK_TIMEOUT_MS, env);
  if (result.ok) {
    const [python, version] = lastLine(result.stdout).split(' ');
    return ok(name, `nbclient ${version} importable by ${python} in the job's environment (its modules and setup, tried on this node)`);
  }
  const said = lastLine(result.stderr) || result.why || 'the check failed';
  const python = /importable by (\S+?)(?: on |:)/.exec(said)?.[1];
  return problem(
    name,
    `sweeps cannot run on SLURM: ${said}`,
    python
      ? `install it where the job finds it: ${python} -m pip install nbclient (or into the venv that JLAB_MCP_SLURM_SETUP activates)`
      : 'fix JLAB_MCP_SLURM_JUPYTER_CMD / JLAB_MCP_SLURM_MODULES / JLAB_MCP_SLURM_SETUP so that the job finds Python with nbclient',
  );
}
