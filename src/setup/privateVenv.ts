import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The private venv jlab-mcp makes when no Jupyter is installed: `$XDG_DATA_HOME/jlab-mcp/venv`
 * (else `~/.local/share/jlab-mcp/venv`), one per user, shared by every project.
 */
export function privateVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'jlab-mcp', 'venv');
}

/** Written once pip has installed everything, so a venv cut short (killed, timed out) is finished next time rather than used. */
export function readyMarker(dir: string): string {
  return path.join(dir, '.jlab-mcp-ready');
}

export function venvPython(dir: string): string {
  return path.join(dir, 'bin', 'python');
}

export function venvState(dir: string): 'ready' | 'partial' | 'absent' {
  if (!existsSync(venvPython(dir))) return 'absent';
  return existsSync(readyMarker(dir)) ? 'ready' : 'partial';
}

/**
 * The argv that starts the venv's Jupyter server: its `jupyter-server` script, or (when pip found
 * jupyter_server already in the system site packages and wrote no script) `python -m jupyter_server`.
 */
export function venvJupyterCommand(dir: string): string[] {
  const script = path.join(dir, 'bin', 'jupyter-server');
  return existsSync(script) ? [script] : [venvPython(dir), '-m', 'jupyter_server'];
}
