import { JlabError } from '../../util/errors.js';
import { splitCommand, which } from '../../util/which.js';

export const INSTALL_HINT =
  'Install a Jupyter server with a Python kernel — Debian/Ubuntu: apt-get install jupyter-server python3-ipykernel; ' +
  'elsewhere: pip install jupyter_server ipykernel — or point JLAB_MCP_JUPYTER_CMD at one.';

/** The argv that starts a Jupyter server: the configured command, else jupyter-server, else `jupyter server`. */
export async function resolveJupyterCommand(configured: string | undefined): Promise<string[]> {
  if (configured) {
    const words = splitCommand(configured);
    if (words.length === 0 || !(which(words[0]!))) {
      throw new JlabError('SERVER_START_FAILED', `JLAB_MCP_JUPYTER_CMD names ${words[0] ?? '(nothing)'}, which is not an executable on PATH.`, {
        hint: INSTALL_HINT,
      });
    }
    return words;
  }
  const server = which('jupyter-server');
  if (server) return [server];
  const jupyter = which('jupyter');
  if (jupyter) return [jupyter, 'server'];
  throw new JlabError('SERVER_START_FAILED', 'No Jupyter server found: neither jupyter-server nor jupyter is on PATH.', { hint: INSTALL_HINT });
}
