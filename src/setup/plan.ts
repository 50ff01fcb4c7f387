/**
 * What the local backend does when it needs a Jupyter server: a pure decision from what was
 * found on this machine to the steps that make one usable. Kept apart from the code that looks
 * and the code that runs, so every branch is tested on its own.
 */

/** JLAB_MCP_SETUP: `auto` installs what is missing (apt as root, else a private venv); `venv` never touches apt; `off` only says what to install. */
export type SetupPolicy = 'auto' | 'venv' | 'off';

/** Jupyter's Debian packages, the same set as scripts/install-deps.sh installs for Jupyter. */
export const DEBIAN_PACKAGES = [
  'jupyter-server',
  'python3-ipykernel',
  'python3-matplotlib',
  'python3-nbformat',
  'python3-jupyter-client',
  'python3-pandas',
] as const;

/** What pip installs into the private venv. */
export const PIP_PACKAGES = ['jupyter_server', 'ipykernel'] as const;

export interface SetupFacts {
  /** JLAB_MCP_JUPYTER_CMD is set: the user's choice, used as it is, never installed over. */
  configuredCommand: boolean;
  /** jupyter-server (or jupyter) is on PATH. */
  jupyterOnPath: boolean;
  /**
   * Whether the Jupyter on PATH has a Python kernel: `missing` only when its Python is known and
   * has neither a kernelspec file nor ipykernel; `unknown` counts as usable (never install on a guess).
   */
  kernel: 'found' | 'missing' | 'unknown';
  /** The private venv: `ready` (its install finished), `partial` (made, install unfinished), `absent`. */
  privateVenv: 'ready' | 'partial' | 'absent';
  root: boolean;
  aptGet: boolean;
  /** python3 is on PATH. */
  python3: boolean;
  /** `python3 -m venv` can make a venv with pip (the venv and ensurepip modules import). */
  venvModule: boolean;
}

export type SetupStep =
  | { kind: 'apt-update' }
  | { kind: 'apt-install'; packages: readonly string[] }
  | { kind: 'make-venv'; dir: string }
  | { kind: 'pip-install'; dir: string; packages: readonly string[] };

export interface SetupPlan {
  /** Which Jupyter is used once the steps ran: the configured command, the one on PATH, the private venv's, or none. */
  use: 'configured' | 'path' | 'venv' | 'none';
  steps: SetupStep[];
  /** One line: what was found and what is done about it. */
  why: string;
  /** With `use: 'none'`: the exact command(s) a person runs. */
  fix?: string;
}

/** The decision. `venvDir` is the private venv's directory ($XDG_DATA_HOME/jlab-mcp/venv). */
export function planSetup(found: SetupFacts, policy: SetupPolicy, venvDir: string): SetupPlan {
  if (found.configuredCommand) return { use: 'configured', steps: [], why: 'JLAB_MCP_JUPYTER_CMD is set: used as it is' };
  if (found.jupyterOnPath && found.kernel !== 'missing') return { use: 'path', steps: [], why: 'a Jupyter server is on PATH' };
  const lack = found.jupyterOnPath ? 'the Jupyter server on PATH has no Python kernel (ipykernel)' : 'no Jupyter server on PATH';
  if (found.privateVenv === 'ready') return { use: 'venv', steps: [], why: `${lack}; using the private venv ${venvDir}` };
  if (policy === 'off') return { use: 'none', steps: [], why: `${lack}; JLAB_MCP_SETUP=off installs nothing`, fix: manualFix(found, venvDir) };
  if (policy === 'auto' && found.root && found.aptGet) {
    return {
      use: 'path',
      steps: [{ kind: 'apt-update' }, { kind: 'apt-install', packages: DEBIAN_PACKAGES }],
      why: `${lack}; root with apt-get: installing the Debian packages`,
    };
  }
  const pip: SetupStep = { kind: 'pip-install', dir: venvDir, packages: PIP_PACKAGES };
  if (found.privateVenv === 'partial') return { use: 'venv', steps: [pip], why: `${lack}; finishing the private venv ${venvDir}` };
  if (found.python3 && found.venvModule) {
    return { use: 'venv', steps: [{ kind: 'make-venv', dir: venvDir }, pip], why: `${lack}; making a private venv ${venvDir} with pip` };
  }
  const cannot = !found.python3 ? 'no python3 on PATH' : 'python3 cannot make a venv (no venv/ensurepip module)';
  return { use: 'none', steps: [], why: `${lack}; ${cannot}`, fix: manualFix(found, venvDir) };
}

/** The commands a person runs when jlab-mcp will not (or cannot) install by itself. */
export function manualFix(found: Pick<SetupFacts, 'root' | 'aptGet' | 'python3' | 'venvModule'>, venvDir: string): string {
  const sudo = found.root ? '' : 'sudo ';
  const apt = `${sudo}apt-get install ${DEBIAN_PACKAGES.slice(0, 2).join(' ')}`;
  const pip = `python3 -m venv --system-site-packages ${venvDir} && ${venvDir}/bin/pip install ${PIP_PACKAGES.join(' ')}`;
  if (found.aptGet && !found.python3) return `${sudo}apt-get install python3 ${DEBIAN_PACKAGES.slice(0, 2).join(' ')}`;
  if (!found.python3) return `install Python 3, then: ${pip}`;
  if (found.aptGet && !found.venvModule) return `${apt} (or ${sudo}apt-get install python3-venv, and jlab-mcp makes its own venv)`;
  return found.aptGet ? `${apt}, or: ${pip}` : pip;
}
