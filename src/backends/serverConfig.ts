import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ASSETS = fileURLToPath(new URL('../../assets/jupyter/', import.meta.url));

/**
 * Writes the Jupyter config file we pass with --config: the token loader (token from a 0600
 * file, out of the environment), no IOPub rate limit, and, when present, the TCP_NODELAY, message-date
 * and activity-watcher patches. Both files 0600.
 */
export async function writeServerConfig(dir: string, token: string): Promise<{ configFile: string; tokenFile: string }> {
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const parts = [await readFile(path.join(ASSETS, 'token_config.py'), 'utf8'), await readFile(path.join(ASSETS, 'rate_limit_config.py'), 'utf8')];
  for (const patch of ['nodelay_config.py', 'fast_dates_config.py', 'lean_activity_config.py']) {
    const text = await readFile(path.join(ASSETS, patch), 'utf8').catch(() => undefined);
    if (text) parts.push(text);
  }
  const configFile = path.join(dir, 'jlab_mcp_server_config.py');
  await writeFile(configFile, parts.join('\n'), { mode: 0o600 });
  return { configFile, tokenFile };
}
