import path from 'node:path';
import { exec } from '../../util/exec.js';
import { which } from '../../util/which.js';

/** Pure: true for `jupyter-lab --version` output of a JupyterLab that runs on jupyter-server (3 or later). */
export function labRunsOnJupyterServer(versionText: string): boolean {
  const match = /^\s*v?(\d+)\.\d+/.exec(versionText);
  return match !== null && Number(match[1]) >= 3;
}

/**
 * Pure: the argv that starts `lab` in place of `command` (jupyter-server, or `jupyter server`),
 * or `command` itself when there is no lab. The extra flag keeps JupyterLab from opening a browser
 * (jupyter-server's `open_browser` does not reach it).
 */
export function withJupyterLab(command: string[], lab: string | undefined): string[] {
  return lab ? [lab, '--LabApp.open_browser=False'] : command;
}

const found = new Map<string, Promise<string | undefined>>();

/**
 * `jupyter-lab` in the directory of `command` (the same installation, so the same kernels and
 * extensions), when it answers `--version` with 3 or later within `timeoutMs` (default 20 000);
 * else undefined. Asked once per directory per process.
 */
export function jupyterLabNextTo(command: string, timeoutMs = 20_000): Promise<string | undefined> {
  const lab = path.join(path.dirname(command), 'jupyter-lab');
  let answer = found.get(lab);
  if (!answer) {
    answer = !which(lab)
      ? Promise.resolve(undefined)
      : exec([lab, '--version'], { timeoutMs }).then(
          ({ stdout }) => (labRunsOnJupyterServer(stdout) ? lab : undefined),
          () => undefined,
        );
    found.set(lab, answer);
  }
  return answer;
}
