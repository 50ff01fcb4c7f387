import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/backends/local/freePort.js';
import { which } from '../../src/util/which.js';
import { ProcessTree } from './processTree.js';
import { waitUntil } from './poll.js';

/**
 * A real JupyterHub 3 (Debian's `jupyterhub` with `node-configurable-http-proxy`) on 127.0.0.1:
 * DummyAuthenticator, SimpleLocalProcessSpawner (no system user: the "user" runs as us with a
 * home in the hub's temp dir), an admin service token in the 0600 config file (never argv),
 * its sqlite database, cookie secret and log in that temp dir.
 */
export interface Hub {
  /** The hub's temp dir (0700): config, database, log, the user's home. Removed by stop(). */
  dir: string;
  /** The public URL (the proxy), e.g. `http://127.0.0.1:41234/`. */
  url: string;
  user: string;
  /** The user's single-user server behind the proxy: `<url>user/<name>/`. */
  userUrl: string;
  /** 0600 file with a hub API token of the user (made through the hub's REST API). */
  tokenFile: string;
  token: string;
  /** The user's home: the single-user server's process runs here. */
  home: string;
  /** The single-user server's root directory (`Spawner.notebook_dir`), deliberately not `home`. */
  rootDir: string;
  /** Milliseconds from spawning the hub to its API answering; and to the user's server answering (when startHub spawned it). */
  startedMs: number;
  spawnedMs?: number;
  /** Every process the hub started so far (proxy, single-user server, kernels) and the hub. */
  tree: ProcessTree;
  /** GET/POST/DELETE on the hub with the admin token. */
  admin(method: string, apiPath: string, body?: unknown): Promise<Response>;
  /** SIGTERM to the hub (it stops its proxy and the user's server), SIGKILL to what is left; removes the temp dir. Returns what had to be killed. */
  stop(): Promise<string[]>;
}

/** Why a hub cannot be started here, or undefined when it can. */
export function hubMissing(): string | undefined {
  for (const command of ['jupyterhub', 'jupyterhub-singleuser', 'configurable-http-proxy']) {
    if (!which(command)) return `${command} is not installed (apt-get install jupyterhub node-configurable-http-proxy; scripts/install-deps.sh does)`;
  }
  return undefined;
}

const START_TIMEOUT_MS = 30_000;
/** Seconds a spawn is held back while `<dir>/slow-spawn` exists. */
export const SLOW_SPAWN_S = 4;

/** Starts a hub with one user and their token; with `spawn`, their server too (and waits for it). */
export async function startHub(options: { user?: string; spawn?: boolean } = {}): Promise<Hub> {
  const user = options.user ?? 'alice';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-hub-'));
  const home = path.join(dir, 'home', user);
  const rootDir = path.join(home, 'work');
  await mkdir(rootDir, { recursive: true });
  const [port, hubPort, apiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const adminToken = randomBytes(24).toString('hex');
  const configFile = path.join(dir, 'jupyterhub_config.py');
  const singleUser = which('jupyterhub-singleuser') ?? 'jupyterhub-singleuser';
  await writeFile(configFile, hubConfig({ dir, port, hubPort, apiPort, adminToken, rootDir, singleUser }), { mode: 0o600 });
  const url = `http://127.0.0.1:${port}/`;
  const logFile = path.join(dir, 'hub.log');
  const logFd = openSync(logFile, 'a', 0o600);
  const began = Date.now();
  let child: ChildProcess;
  try {
    // Debian's proxy needs its modules from /usr/share/nodejs, which a Node not from Debian
    // (NodeSource, nvm) does not search; the hub passes its environment on to the proxy.
    const nodePath = [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(':');
    child = spawn('jupyterhub', ['-f', configFile], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: nodePath },
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
  } finally {
    closeSync(logFd);
  }
  const tree = new ProcessTree([child.pid!]);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `jupyterhub exited (${signal ?? code})`));
  const logTail = async () => (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
  const admin = (method: string, apiPath: string, body?: unknown) =>
    fetch(new URL(`hub/api/${apiPath}`, url), {
      method,
      headers: { Authorization: `token ${adminToken}` },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  const userUrl = `${url}user/${user}/`;
  const tokenFile = path.join(dir, 'user-token');
  let token = '';
  const until = (what: string, ok: () => Promise<boolean>) =>
    waitUntil(
      `JupyterHub test: ${what}`,
      async () => {
        if (exited) throw new Error(`JupyterHub test: ${exited}\n${await logTail()}`);
        return ok().catch(() => false);
      },
      { timeoutMs: START_TIMEOUT_MS, detail: async () => `\n${await logTail()}` },
    );
  const spawnUserServer = async () => {
    const answer = await admin('POST', `users/${user}/server`);
    if (answer.status !== 201 && answer.status !== 202 && answer.status !== 400)
      throw new Error(`JupyterHub test: spawn answered HTTP ${answer.status}\n${await logTail()}`);
    await until(`${user}'s server answering`, async () => {
      const response = await fetch(new URL('api/status', userUrl), {
        headers: { Authorization: `token ${token}` },
        redirect: 'manual',
        signal: AbortSignal.timeout(5000),
      });
      await response.body?.cancel();
      return response.status === 200;
    });
  };
  let stopped: Promise<string[]> | undefined;
  const stop = () => (stopped ??= stopOnce());
  const stopOnce = async () => {
    tree.stop();
    if (!exited) process.kill(child.pid!, 'SIGTERM');
    const left = await tree.waitAllGone(15_000);
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    return left.map((p) => `${p.pid} ${p.command}`);
  };
  try {
    await until('the hub API answering', async () => (await admin('GET', '')).status === 200);
    const startedMs = Date.now() - began;
    const created = await admin('POST', `users/${user}`);
    if (created.status !== 201) throw new Error(`JupyterHub test: creating ${user} answered HTTP ${created.status}`);
    const issued = await admin('POST', `users/${user}/tokens`, { note: 'jlab-mcp test', expires_in: 3600 });
    token = ((await issued.json()) as { token: string }).token;
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    if (options.spawn !== false) await spawnUserServer();
    const spawnedMs = options.spawn !== false ? Date.now() - began : undefined;
    return { dir, url, user, userUrl, tokenFile, token, home, rootDir, startedMs, spawnedMs, tree, admin, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The hub's config file: every value is a JSON string literal, which Python reads as its own. */
function hubConfig(o: { dir: string; port: number; hubPort: number; apiPort: number; adminToken: string; rootDir: string; singleUser: string }): string {
  const q = JSON.stringify;
  const args = process.getuid?.() === 0 ? ["'--allow-root'"] : [];
  return [
    `c.JupyterHub.bind_url = ${q(`http://127.0.0.1:${o.port}`)}`,
    `c.JupyterHub.hub_ip = '127.0.0.1'`,
    `c.JupyterHub.hub_port = ${o.hubPort}`,
    `c.ConfigurableHTTPProxy.api_url = ${q(`http://127.0.0.1:${o.apiPort}`)}`,
    `c.ConfigurableHTTPProxy.pid_file = ${q(path.join(o.dir, 'proxy.pid'))}`,
    `c.JupyterHub.pid_file = ${q(path.join(o.dir, 'hub.pid'))}`,
    `c.JupyterHub.db_url = ${q(`sqlite:///${path.join(o.dir, 'jupyterhub.sqlite')}`)}`,
    `c.JupyterHub.cookie_secret_file = ${q(path.join(o.dir, 'jupyterhub_cookie_secret'))}`,
    `c.JupyterHub.authenticator_class = 'jupyterhub.auth.DummyAuthenticator'`,
    `c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'`,
    `c.SimpleLocalProcessSpawner.home_dir_template = ${q(path.join(o.dir, 'home', '{username}'))}`,
    `c.Spawner.notebook_dir = ${q(o.rootDir)}`,
    // While the file slow-spawn exists, a spawn takes SLOW_SPAWN_S longer (a batch queue, say).
    `c.Spawner.cmd = ['bash', '-c', ${q(`if [ -e ${path.join(o.dir, 'slow-spawn')} ]; then sleep ${SLOW_SPAWN_S}; fi; exec ${o.singleUser} "$@"`)}, 'jupyterhub-singleuser']`,
    `c.Spawner.args = [${args.join(', ')}]`,
    `c.Spawner.start_timeout = 30`,
    `c.Spawner.http_timeout = 30`,
    // Spawn requests answer at once (202) rather than after the spawn.
    `c.JupyterHub.tornado_settings = {'slow_spawn_timeout': 0}`,
    `c.JupyterHub.services = [{'name': 'jlab-mcp-test', 'api_token': ${q(o.adminToken)}, 'admin': True}]`,
    '',
  ].join('\n');
}
