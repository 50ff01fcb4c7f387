import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hubMissing, SLOW_SPAWN_S, startHub, type Hub } from '../helpers/jupyterhub.js';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';

const missing = hubMissing();

/**
 * jlab-mcp's external backend against a real JupyterHub 3: the single-user server behind the
 * hub's proxy (`/user/<name>/`), a hub API token read from a file, the server's own root
 * directory. The three settings are the ones README's JupyterHub section gives.
 */
describe('JupyterHub single-user server (external backend)', { skip: missing }, () => {
  let hub: Hub;
  let wrongTokenFile = '';

  before(async () => {
    hub = await startHub({ spawn: false });
    wrongTokenFile = path.join(hub.dir, 'wrong-token');
    await writeFile(wrongTokenFile, 'not-a-token-the-hub-knows\n', { mode: 0o600 });
    console.log(`# JupyterHub: hub API up in ${(hub.startedMs / 1000).toFixed(1)} s`);
  });
  after(async () => {
    await hub?.stop();
  });

  /** jlab-mcp with the three settings a hub user needs (plus a notebook directory, and its state in the hub's temp dir). */
  function jlabOnHub(url: string, tokenFile: string, notebookDir: string): Promise<Spawned> {
    const stateDir = path.join(hub.dir, 'state', path.basename(notebookDir));
    return spawnServer(
      {
        JLAB_MCP_RUN_MODE: 'external',
        JLAB_MCP_JUPYTER_URL: url,
        JLAB_MCP_JUPYTER_TOKEN_FILE: tokenFile,
        JLAB_MCP_SERVER_START_TIMEOUT: '60',
        JLAB_MCP_STATE_DIR: stateDir,
      },
      notebookDir,
    );
  }

  it('a server the hub is still spawning (the same 424 as a stopped one) is waited for, then used', async () => {
    // The hub starts with the user's server stopped; this spawn is held back a few seconds.
    await writeFile(path.join(hub.dir, 'slow-spawn'), '');
    const began = Date.now();
    assert.equal((await hub.admin('POST', `users/${hub.user}/server`)).status, 202, 'the spawn is pending');
    const server = await jlabOnHub(hub.userUrl, hub.tokenFile, path.join(hub.rootDir, 'spawning'));
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'spawning' });
      assert.equal(started.isError, undefined, textOf(started));
      assert.match(
        server.stderr(),
        /The Jupyter server at http:\/\/127\.0\.0\.1:\d+\/user\/alice\/ is not up yet: JupyterHub is still starting it \(pending: spawn\); waiting for it/,
      );
      const ran = await call(server.client, 'execute_code', { session_id: String(started.structuredContent?.session_id), code: '6 * 7' });
      assert.match(textOf(ran), /^42\n/);
      console.log(`# JupyterHub: user server spawned and answering in ${((Date.now() - began) / 1000).toFixed(1)} s (${SLOW_SPAWN_S} s of it held back)`);
    } finally {
      await server.close();
    }
  });

  it('runs cells through the hub proxy with a hub token; kernels start in the server root; the notebook shows in the hub', async () => {
    // The notebooks go inside what the hub's server serves, so its JupyterLab lists them.
    const notebookDir = path.join(hub.rootDir, 'agent');
    const server = await jlabOnHub(hub.userUrl, hub.tokenFile, notebookDir);
    let kernelId = '';
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'hub' });
      assert.equal(started.isError, undefined, textOf(started));
      assert.equal(started.structuredContent?.backend, 'external');
      kernelId = String(started.structuredContent?.kernel_id);
      const sid = String(started.structuredContent?.session_id);
      const ran = await call(server.client, 'execute_code', { session_id: sid, code: 'import os\nprint(os.getcwd())\nprint(os.environ["JUPYTERHUB_USER"])' });
      assert.equal(ran.isError, undefined, textOf(ran));
      // The server's root (Spawner.notebook_dir), not its process's directory (the user's home).
      assert.match(textOf(ran), new RegExp(`^${await realpath(hub.rootDir)}\\n${hub.user}\\n`));
      const kernels = await call(server.client, 'list_kernels');
      assert.ok(
        (kernels.structuredContent?.kernels as Array<{ name: string }>).some((k) => k.name === 'python3'),
        textOf(kernels),
      );
      // The hub's single-user server sees the notebook jlab-mcp wrote (its Contents API, as JupyterLab would).
      const listing = await fetch(new URL('api/contents/agent', hub.userUrl), {
        headers: { Authorization: `token ${hub.token}` },
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(listing.status, 200);
      const names = ((await listing.json()) as { content: Array<{ name: string }> }).content.map((entry) => entry.name);
      assert.ok(names.includes('hub.ipynb'), `the hub's server lists ${names.join(', ')}`);
      const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
      assert.ok(!JSON.stringify(status).includes(hub.token), 'no token in the status resource');
    } finally {
      await server.close();
    }
    assert.ok(!server.stderr().includes(hub.token), 'no token in the log');
    const left = await fetch(new URL('api/kernels', hub.userUrl), { headers: { Authorization: `token ${hub.token}` }, signal: AbortSignal.timeout(10_000) });
    assert.ok(!((await left.json()) as Array<{ id: string }>).some((k) => k.id === kernelId), 'jlab-mcp shut its kernel down on exit');
    const stillUp = await fetch(new URL('api/status', hub.userUrl), { headers: { Authorization: `token ${hub.token}` }, signal: AbortSignal.timeout(10_000) });
    assert.equal(stillUp.status, 200, 'the hub user server keeps running: it is not ours to stop');
  });

  it('[bad-input] a token the hub does not know → JUPYTER_TOKEN_REJECTED at once, naming where to make one', async () => {
    const server = await jlabOnHub(hub.userUrl, wrongTokenFile, path.join(hub.rootDir, 'bad-token'));
    try {
      const began = Date.now();
      const result = await call(server.client, 'start_new_session', { experiment_name: 'bad' });
      assert.equal(result.isError, true);
      assert.match(
        textOf(result),
        /JUPYTER_TOKEN_REJECTED[\s\S]*Token rejected by http:\/\/127\.0\.0\.1:\d+\/user\/alice\/ \(GET \/api\/status answered HTTP 403\)[\s\S]*\/hub\/token/,
      );
      assert.ok(Date.now() - began < 15_000, 'fails without waiting out JLAB_MCP_SERVER_START_TIMEOUT (60 s)');
    } finally {
      await server.close();
    }
  });

  it('[bad-input] the hub URL without /user/<name>/ → says which URL to give', async () => {
    const server = await jlabOnHub(hub.url, hub.tokenFile, path.join(hub.rootDir, 'hub-root'));
    try {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'root' });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /SERVER_START_FAILED[\s\S]*not a Jupyter server's base URL[\s\S]*\/user\/<name>\//);
    } finally {
      await server.close();
    }
  });

  it('[fault] the user server stopped on the hub → JUPYTER_UNREACHABLE at once with the hub spawn URL; a wrong token then → JUPYTER_TOKEN_REJECTED', async () => {
    // Leaves the server stopped for the next test.
    assert.equal((await hub.admin('DELETE', `users/${hub.user}/server`)).status, 204);
    const server = await jlabOnHub(hub.userUrl, hub.tokenFile, path.join(hub.rootDir, 'stopped'));
    try {
      const began = Date.now();
      const result = await call(server.client, 'start_new_session', { experiment_name: 'stopped' });
      assert.equal(result.isError, true);
      assert.ok(Date.now() - began < 15_000, 'fails without waiting out JLAB_MCP_SERVER_START_TIMEOUT (60 s)');
      assert.match(
        textOf(result),
        /JUPYTER_UNREACHABLE[\s\S]*is not running: JupyterHub says[\s\S]*Next step: Start your server from the hub \(http:\/\/127\.0\.0\.1:\d+\/hub\/spawn\/alice\)/,
      );
    } finally {
      await server.close();
    }
    // For a stopped server the hub answers a bad token with its login page, not a 403.
    const wrong = await jlabOnHub(hub.userUrl, wrongTokenFile, path.join(hub.rootDir, 'stopped-bad'));
    try {
      const result = await call(wrong.client, 'start_new_session', { experiment_name: 'stopped' });
      assert.match(textOf(result), /JUPYTER_TOKEN_REJECTED[\s\S]*sent to the login page \/hub\/login/);
    } finally {
      await wrong.close();
    }
  });

  it('the hub, its proxy, the single-user server and its kernels all end with the hub', async () => {
    const seen = hub.tree.all().map((p) => p.command);
    assert.ok(seen.some((c) => c.includes('configurable-http-proxy')) && seen.some((c) => c.includes('jupyterhub-singleuser')), seen.join('\n'));
    assert.deepEqual(await hub.stop(), [], 'nothing had to be killed');
    assert.equal(existsSync(hub.dir), false, "the hub's database, cookie secret and log went with its temp dir");
  });
});
