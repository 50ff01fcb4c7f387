import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KernelConnection } from '@jupyterlab/services';
import { JupyterRestClient, toJupyterError } from '../../src/jupyter/restClient.js';
import { call, errorOf as errorDataOf, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { fakeJupyter, stalledTcpServer, type Listening } from '../helpers/stalledServers.js';

/** Far above every deadline configured below: reaching it means something hung. */
const HANG = 60_000;
const token = randomBytes(20).toString('hex');

const servers: Listening[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function track<T extends Listening>(server: Promise<T>): Promise<T> {
  const listening = await server;
  servers.push(listening);
  return listening;
}

/** jlab-mcp (the built binary) in external mode against `url`, with short deadlines. */
async function jlabAgainst(url: string, env: Record<string, string> = {}): Promise<Spawned> {
  return spawnServer({
    JLAB_MCP_RUN_MODE: 'external',
    JLAB_MCP_JUPYTER_URL: url,
    JLAB_MCP_JUPYTER_TOKEN: token,
    JLAB_MCP_REQUEST_TIMEOUT: '1',
    JLAB_MCP_SERVER_START_TIMEOUT: '3',
    JLAB_MCP_KERNEL_START_TIMEOUT: '4',
    ...env,
  });
}

/** Closes the client and checks the jlab-mcp process is gone. */
async function finish(server: Spawned): Promise<void> {
  const pid = server.pid();
  await server.close();
  if (pid) assert.deepEqual(await waitUntilGone([pid], 20_000), [], 'jlab-mcp must exit when its client closes');
}

function errorOf(result: ToolResult): { code: string; message: string; hint?: string } {
  assert.equal(result.isError, true, textOf(result));
  return errorDataOf(result)!;
}

/** start_new_session fails with an error result; no token anywhere; the server still answers. */
async function startFails(server: Spawned): Promise<{ code: string; message: string; hint?: string }> {
  const result = await call(server.client, 'start_new_session', { experiment_name: 'stalled' }, HANG);
  const error = errorOf(result);
  assert.ok(error.hint, 'the error names a next step');
  assert.ok(!JSON.stringify(result).includes(token), 'the token must not reach the agent');
  const sessions = await call(server.client, 'list_sessions', {}, HANG);
  assert.equal(sessions.isError, undefined, textOf(sessions));
  assert.ok(!server.stderr().includes(token), 'the token must not reach the log');
  return error;
}

describe('a Jupyter server that accepts connections and never answers', { timeout: 4 * HANG }, () => {
  it('[fault] Jupyter URL accepts TCP connections and never writes a byte → start_new_session fails SERVER_START_FAILED naming the URL; server still answers', async () => {
    const stalled = await track(stalledTcpServer());
    const server = await jlabAgainst(stalled.url);
    try {
      const error = await startFails(server);
      assert.equal(error.code, 'SERVER_START_FAILED');
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${stalled.port}/ never answered GET /api/status within 3 s`));
      assert.match(error.hint!, /JLAB_MCP_SERVER_START_TIMEOUT/);
    } finally {
      await finish(server);
    }
  });

  it('[fault] /api/status answers but POST /api/kernels never does → TIMEOUT naming the request and JLAB_MCP_KERNEL_START_TIMEOUT (not the shorter request timeout)', async () => {
    const fake = await track(fakeJupyter(token, 'start'));
    const server = await jlabAgainst(fake.url);
    try {
      const error = await startFails(server);
      assert.equal(error.code, 'TIMEOUT');
      assert.match(
        error.message,
        /Could not start a kernel: The Jupyter server at http:\/\/127\.0\.0\.1:\d+\/ did not answer POST \/api\/kernels within 4 s \(JLAB_MCP_KERNEL_START_TIMEOUT\)/,
      );
      assert.match(error.hint!, /raise JLAB_MCP_KERNEL_START_TIMEOUT/);
      assert.ok(fake.requests.includes('POST /api/kernels'), 'the kernel start request reached the server');
    } finally {
      await finish(server);
    }
  });

  it('[fault] kernel created but its websocket upgrade is never answered → KERNEL_START_FAILED, handshake timeout logged, kernel shut down', async () => {
    const fake = await track(fakeJupyter(token, 'upgrade'));
    const server = await jlabAgainst(fake.url);
    try {
      const error = await startFails(server);
      assert.equal(error.code, 'KERNEL_START_FAILED');
      assert.match(server.stderr(), /websocket ws:\/\/127\.0\.0\.1:\d+\/api\/kernels\/[\w-]+\/channels did not open: Opening handshake has timed out/);
      assert.equal(fake.deleted.length, 1, 'the kernel that never connected must be shut down');
    } finally {
      await finish(server);
    }
  });

  it('[fault] websocket opens but the kernel never answers kernel_info → KERNEL_START_FAILED within the kernel start timeout, kernel shut down', async () => {
    const fake = await track(fakeJupyter(token, 'kernel-info'));
    const server = await jlabAgainst(fake.url);
    try {
      const error = await startFails(server);
      assert.equal(error.code, 'KERNEL_START_FAILED');
      assert.match(error.message, /within 4 s/);
      assert.ok(
        fake.requests.some((request) => /^UPGRADE \/api\/kernels\/[\w-]+\/channels$/.test(request)),
        'the websocket was opened',
      );
      assert.equal(fake.deleted.length, 1, 'the silent kernel must be shut down');
    } finally {
      await finish(server);
    }
  });
});

describe('the request deadline covers every call the Jupyter library makes', { timeout: HANG }, () => {
  it('[fault] REST answer stalls after its headers → TIMEOUT naming the request and the server, never the token', async () => {
    const fake = await track(fakeJupyter(token, 'spec-body'));
    const rest = new JupyterRestClient({ baseUrl: fake.url, token, requestTimeoutMs: 500 });
    const error = await rest.kernelSpecs().then(
      () => assert.fail('a half-sent answer must not count as an answer'),
      (e: unknown) => e as { code: string; message: string },
    );
    assert.equal(error.code, 'TIMEOUT');
    assert.match(
      error.message,
      new RegExp(`Could not list kernelspecs: The Jupyter server at http://127\\.0\\.0\\.1:${fake.port}/ did not answer GET /api/kernelspecs within 0\\.5 s`),
    );
    assert.ok(!error.message.includes(token));
  });

  it('[fault] kernel interrupt and restart requests never answered → both fail with TIMEOUT instead of hanging', async () => {
    const fake = await track(fakeJupyter(token, 'control'));
    const rest = new JupyterRestClient({ baseUrl: fake.url, token, requestTimeoutMs: 500 });
    const model = await rest.startKernel('python3');
    const connection = new KernelConnection({ model, serverSettings: rest.settings, handleComms: false });
    try {
      for (const [what, action] of [
        ['interrupt', () => connection.interrupt()],
        ['restart', () => connection.restart()],
      ] as const) {
        const error = await action().then(
          () => assert.fail(`${what} must not succeed against a silent server`),
          (e: unknown) => toJupyterError(`${what} the kernel`, e),
        );
        assert.equal(error.code, 'TIMEOUT', error.message);
        assert.match(error.message, new RegExp(`did not answer POST /api/kernels/${model.id}/${what} within 0\\.5 s`));
      }
    } finally {
      connection.dispose();
      await rest.shutdownKernel(model.id);
    }
    assert.deepEqual(fake.deleted, [model.id]);
  });
});
