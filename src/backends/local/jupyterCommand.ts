import { jupyterLabNextTo, withJupyterLab } from './jupyterLab.js';
import { JlabError } from '../../util/errors.js';
import { splitWords } from '../../util/shell.js';
import { which } from '../../util/which.js';

export const INSTALL_HINT =
  'Install a Jupyter server with a Python kernel — Debian/Ubuntu: apt-get install jupyter-server python3-ipykernel; ' +
  'elsewhere: pip install jupyter_server ipykernel — or point JLAB_MCP_JUPYTER_CMD at one.';

/**
 * The argv that starts a Jupyter server: the configured command, else jupyter-server, else
 * `jupyter server` — or, with `preferLab` (JLAB_MCP_JUPYTERLAB, default true) and no configured
 * command, the JupyterLab 3+ installed next to the one found (same flags; the full UI for a person).
 */
export async function resolveJupyterCommand(configured: string | undefined, preferLab = true): Promise<string[]> {
  if (configured) {
    const words = splitWords(configured, 'JLAB_MCP_JUPYTER_CMD');
    if (words.length === 0 || !which(words[0]!)) {
      throw new JlabError('SERVER_START_FAILED', `JLAB_MCP_JUPYTER_CMD names ${words[0] ?? '(nothing)'}, which is not an executable on PATH.`, {
        hint: INSTALL_HINT,
      });
    }
    return words;
  }
  const server = which('jupyter-server');
  const jupyter = server ? undefined : which('jupyter');
  const found = server ? [server] : jupyter ? [jupyter, 'server'] : undefined;
  if (found) return withJupyterLab(found, preferLab ? await jupyterLabNextTo(found[0]!) : undefined);
  throw new JlabError('SERVER_START_FAILED', 'No Jupyter server found: neither jupyter-server nor jupyter is on PATH.', { hint: INSTALL_HINT });
}
