import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/settings.js';
import type { RunMode } from '../config/load.js';
import { JupyterRestClient } from '../jupyter/restClient.js';
import { gatherSetupFacts, pythonOf } from '../setup/facts.js';
import { planSetup } from '../setup/plan.js';
import { privateVenvDir, venvJupyterCommand, venvState } from '../setup/privateVenv.js';
import { splitWords } from '../util/shell.js';
import { which } from '../util/which.js';
import { displayUrl } from '../util/secrets.js';
import { lastLine, note, ok, problem, run, type Check } from './doctorCheck.js';

const VERSION_TIMEOUT_MS = 20_000;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Jupyter as the run mode uses it: local → the command jlab-mcp would start (configured, on PATH,
 * or the private venv's) and its version, else what the set-up would do; external → whether the
 * server answers; slurm → Jupyter runs in the job, nothing to check here. Returns the command found (for the kernel check).
 */
export async function checkJupyter(config: Config, mode: RunMode, env: NodeJS.ProcessEnv): Promise<{ check: Check; command?: string[] }> {
  const name = 'jupyter';
  if (mode === 'external') {
    const probe = await new JupyterRestClient({
      baseUrl: config.jupyterUrl!,
      token: config.jupyterToken ?? '',
      requestTimeoutMs: PROBE_TIMEOUT_MS,
    }).probeStatus(PROBE_TIMEOUT_MS);
    return probe.up
      ? { check: ok(name, `the server at ${displayUrl(config.jupyterUrl!)} answers (external mode)`) }
      : {
          check: problem(
            name,
            `the server at ${displayUrl(config.jupyterUrl!)} ${probe.words}`,
            'start it, or check JLAB_MCP_JUPYTER_URL and JLAB_MCP_JUPYTER_TOKEN',
          ),
        };
  }
  if (mode === 'slurm') return { check: note(name, `runs in the batch job (${config.slurmJupyterCommand} on the compute node); not checked here`) };
  const command = localCommand(config, env);
  if (!command) {
    const venvDir = privateVenvDir(env);
    const plan = planSetup(await gatherSetupFacts({ venvDir, env }), config.setup, venvDir);
    if (plan.use === 'none') return { check: problem(name, `no Jupyter server: ${plan.why}`, plan.fix!) };
    const steps = plan.steps.length ? `the first start sets it up (JLAB_MCP_SETUP=${config.setup}): ${plan.why}` : plan.why;
    return { check: note(name, steps, 'nothing to do; or install it now yourself (see docs/setup.md, "Jupyter on a fresh machine")') };
  }
  if (config.jupyterCommand && !which(command[0]!, env.PATH ?? '')) {
    return {
      check: problem(
        name,
        `JLAB_MCP_JUPYTER_CMD names ${command[0]}, which is not an executable on PATH`,
        'fix JLAB_MCP_JUPYTER_CMD, or unset it to use jupyter-server from PATH',
      ),
    };
  }
  const version = await run(command[0]!, [...command.slice(1), '--version'], VERSION_TIMEOUT_MS, env);
  if (!version.ok)
    return {
      check: problem(
        name,
        `${command.join(' ')} --version failed (${version.why}): ${lastLine(version.stderr)}`,
        'reinstall Jupyter (see docs/setup.md, "Jupyter on a fresh machine"), or set JLAB_MCP_JUPYTER_CMD',
      ),
      command,
    };
  return { check: ok(name, `${command.join(' ')} (version ${lastLine(version.stdout)})`), command };
}

/** The command the local backend starts (without JupyterLab's swap), or undefined when there is none yet. */
function localCommand(config: Config, env: NodeJS.ProcessEnv): string[] | undefined {
  if (config.jupyterCommand) return splitWords(config.jupyterCommand, 'JLAB_MCP_JUPYTER_CMD');
  const envPath = env.PATH ?? '';
  const server = which('jupyter-server', envPath);
  if (server) return [server];
  const jupyter = which('jupyter', envPath);
  if (jupyter) return [jupyter, 'server'];
  const venvDir = privateVenvDir(env);
  return venvState(venvDir) === 'ready' ? venvJupyterCommand(venvDir) : undefined;
}

const SPECS_SCRIPT = 'import json, jupyter_client.kernelspec as k; print(json.dumps(k.KernelSpecManager().get_all_specs()))';

/** The kernelspecs that Jupyter offers (asked of its own Python, as `jupyter kernelspec list --json` would), and whether the Python kernel's program exists. */
export async function checkKernels(command: string[] | undefined, config: Config, env: NodeJS.ProcessEnv): Promise<Check> {
  const name = 'kernelspecs';
  const python = command ? pythonFor(command, env) : undefined;
  if (!python) return note(name, command ? `cannot tell which Python runs ${command[0]}; not checked` : 'no local Jupyter to ask');
  const listed = await run(python, ['-c', SPECS_SCRIPT], VERSION_TIMEOUT_MS, env);
  if (!listed.ok)
    return problem(
      name,
      `${python} could not list kernelspecs (${listed.why}): ${lastLine(listed.stderr)}`,
      `${python} -m pip install ipykernel (or apt-get install python3-ipykernel)`,
    );
  let specs: Record<string, { spec?: { argv?: string[]; language?: string } }>;
  try {
    specs = JSON.parse(lastLine(listed.stdout)) as typeof specs;
  } catch {
    return problem(name, `unexpected answer from ${python}: ${lastLine(listed.stdout).slice(0, 200)}`, 'reinstall jupyter_client');
  }
  const names = Object.keys(specs);
  if (names.length === 0)
    return problem(
      name,
      'no kernelspec at all: sessions cannot start a kernel',
      `${python} -m pip install ipykernel && ${python} -m ipykernel install --user (or apt-get install python3-ipykernel)`,
    );
  if (config.defaultKernel && !names.includes(config.defaultKernel)) {
    return problem(
      name,
      `JLAB_MCP_KERNEL=${config.defaultKernel} is not among ${names.join(', ')}`,
      'set JLAB_MCP_KERNEL to one of them, or install that kernel',
    );
  }
  const pythonSpec = Object.entries(specs).find(([, s]) => s.spec?.language?.toLowerCase() === 'python');
  if (!pythonSpec) return note(name, `${names.join(', ')} (no Python kernel)`, `${python} -m pip install ipykernel`);
  const program = pythonSpec[1].spec?.argv?.[0] ?? '';
  // jupyter_client runs a bare `python`/`python3` as the server's own Python.
  const resolved = /^python[\d.]*$/.test(program) ? python : program.includes('/') ? program : which(program, env.PATH ?? '');
  if (!resolved || !which(resolved)) {
    return problem(
      name,
      `the ${pythonSpec[0]} kernel runs ${program}, which does not exist`,
      `${python} -m ipykernel install --user --name ${pythonSpec[0]} (rewrites it for this Python)`,
    );
  }
  return ok(name, `${names.join(', ')} (${pythonSpec[0]} runs ${resolved})`);
}

/** The Python behind a Jupyter command: itself, or its script's `#!` interpreter. */
function pythonFor(command: string[], env: NodeJS.ProcessEnv): string | undefined {
  const program = which(command[0]!, env.PATH ?? '');
  if (!program) return undefined;
  if (/^python[\d.]*$/.test(path.basename(program))) return program;
  let real = program;
  try {
    real = realpathSync(program);
  } catch {
    // keep the PATH name
  }
  return pythonOf(real, env);
}
