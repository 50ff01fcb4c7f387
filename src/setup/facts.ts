import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec } from '../util/exec.js';
import { envWithoutSecrets } from '../util/secrets.js';
import { which } from '../util/which.js';
import type { SetupFacts } from './plan.js';
import { venvState } from './privateVenv.js';

/** How long one probe (a Python import) may take, in ms. */
const PROBE_TIMEOUT_MS = 15_000;

/**
 * Looks at this machine for `planSetup`. Cheap first: PATH lookups and file checks; a Python
 * process only when they cannot tell (a Jupyter without a kernelspec file, or whether python3
 * can make a venv). Stops as soon as the answer is clear, so a machine with Jupyter pays ~nothing.
 */
export async function gatherSetupFacts(options: { configuredCommand?: string; venvDir: string; env?: NodeJS.ProcessEnv }): Promise<SetupFacts> {
  // Probes run the user's Python and Jupyter: none of our tokens.
  const env = envWithoutSecrets(options.env ?? process.env);
  const envPath = env.PATH ?? '';
  const server = which('jupyter-server', envPath) ?? which('jupyter', envPath);
  const facts: SetupFacts = {
    configuredCommand: Boolean(options.configuredCommand),
    jupyterOnPath: server !== undefined,
    kernel: 'unknown',
    privateVenv: venvState(options.venvDir),
    root: process.getuid?.() === 0,
    aptGet: which('apt-get', envPath) !== undefined,
    python3: which('python3', envPath) !== undefined,
    venvModule: false,
  };
  if (facts.configuredCommand) return facts;
  if (server) {
    facts.kernel = await kernelOf(server, env);
    if (facts.kernel !== 'missing') return facts;
  }
  if (facts.privateVenv !== 'absent' || !facts.python3) return facts;
  facts.venvModule = await runs(which('python3', envPath)!, ['-c', 'import venv, ensurepip'], env);
  return facts;
}

/** Whether the Jupyter at `server` has a Python kernel: a kernelspec file where it looks, else ipykernel in its Python. */
async function kernelOf(server: string, env: NodeJS.ProcessEnv): Promise<'found' | 'missing' | 'unknown'> {
  const real = safeRealpath(server);
  const prefix = path.dirname(path.dirname(real));
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  const dirs = [
    ...(env.JUPYTER_PATH ?? '').split(path.delimiter).filter(Boolean),
    path.join(dataHome, 'jupyter'),
    path.join(prefix, 'share', 'jupyter'),
    '/usr/local/share/jupyter',
    '/usr/share/jupyter',
  ];
  if (dirs.some(hasKernelspec)) return 'found';
  const python = pythonOf(real, env);
  if (!python) return 'unknown';
  return (await runs(python, ['-c', 'import ipykernel'], env)) ? 'found' : 'missing';
}

function hasKernelspec(jupyterDir: string): boolean {
  const kernels = path.join(jupyterDir, 'kernels');
  try {
    return readdirSync(kernels).some((name) => existsSync(path.join(kernels, name, 'kernel.json')));
  } catch {
    return false;
  }
}

/** The Python a script runs under, from its `#!` line (`/usr/bin/python3`, `/usr/bin/env python3`); undefined for anything else. */
export function pythonOf(script: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let first = '';
  try {
    first = readFileSync(script, { encoding: 'latin1' }).slice(0, 256).split('\n')[0] ?? '';
  } catch {
    return undefined;
  }
  const words = first.startsWith('#!') ? first.slice(2).trim().split(/\s+/) : [];
  const program = path.basename(words[0] ?? '') === 'env' ? which(words[1] ?? '', env.PATH ?? '') : words[0];
  return program && /^python[\d.]*$/.test(path.basename(program)) ? program : undefined;
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** True when `program args` exits 0 within the probe deadline. */
function runs(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return exec([program, ...args], { timeoutMs: PROBE_TIMEOUT_MS, env }).then(
    () => true,
    () => false,
  );
}
