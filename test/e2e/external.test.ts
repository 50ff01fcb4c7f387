import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../../src/backends/local/freePort.js';
import { call, spawnServer, textOf } from '../helpers/mcpClient.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { waitUntil } from '../helpers/poll.js';

/** A Jupyter server "the user already runs": started here, by hand, with its own token. */
describe('external backend', () => {
  let jupyter: ChildProcess;
  let url = '';
  const token = randomBytes(16).toString('hex');
  let notebookDir = '';

  before(async () => {
    notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-external-'));
    const port = await findFreePort();
    const args = [
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      '--ServerApp.port_retries=0',
      '--ServerApp.open_browser=False',
      `--ServerApp.root_dir=${notebookDir}`,
    ];
    if (process.getuid?.() === 0) args.push('--allow-root');
    jupyter = spawn('jupyter-server', args, { env: { ...process.env, JUPYTER_TOKEN: token }, stdio: 'ignore' });
    url = `http://127.0.0.1:${port}/`;
    // Running means answering: jlab-mcp does not wait on a port where nothing listens yet.
    const up = () =>
      fetch(`${url}api/status`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
    await waitUntil(
      'the Jupyter server for these tests up',
      () => {
        assert.ok(jupyter.exitCode === null, 'the Jupyter server for these tests exited');
        return up();
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });
  after(() => {
    jupyter?.kill('SIGTERM');
  });

  it('runs cells on the given server, hides its token, and never stops it', async () => {
    const server = await spawnServer(
      { JLAB_MCP_RUN_MODE: '', JLAB_MCP_JUPYTER_URL: url, JLAB_MCP_JUPYTER_TOKEN: token, JLAB_MCP_SERVER_START_TIMEOUT: '60' },
      notebookDir,
    );
    const mcpPid = server.pid()!;
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'ext' });
      assert.equal(started.isError, undefined, textOf(started));
      assert.equal(started.structuredContent?.backend, 'external');
      const leak = await call(server.client, 'execute_code', {
        session_id: String(started.structuredContent?.session_id),
        code: `import os\nprint("token is ${token}")\nprint(os.getcwd())`,
      });
      assert.match(textOf(leak), /^token is <redacted>/);
      // Kernels start in the directory the server serves (its root_dir), not in its process's (this repo).
      assert.match(textOf(leak), new RegExp(`^token is <redacted>\n${await realpath(notebookDir)}\n`));
      const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
      const text = String((status.contents[0] as { text: string }).text);
      assert.ok(!text.includes(token));
      assert.match(JSON.parse(text).server.modeReason, /JLAB_MCP_JUPYTER_URL is set/);
    } finally {
      await server.close();
    }
    // jlab-mcp's whole exit (its shutdown of the sessions included) is over once its process is gone.
    assert.deepEqual(await waitUntilGone([mcpPid], 20_000), [], 'jlab-mcp exits');
    assert.ok(await isAlive(jupyter.pid!), 'the external server must keep running after jlab-mcp exits');
  });

  it('[bad-input] a server that answers 403 (another token) → JUPYTER_TOKEN_REJECTED at once, not after the start timeout', async () => {
    const server = await spawnServer(
      { JLAB_MCP_RUN_MODE: '', JLAB_MCP_JUPYTER_URL: url, JLAB_MCP_JUPYTER_TOKEN: 'wrong-token-123456', JLAB_MCP_SERVER_START_TIMEOUT: '60' },
      notebookDir,
    );
    try {
      const began = Date.now();
      const result = await call(server.client, 'start_new_session', { experiment_name: 'bad' });
      assert.equal(result.isError, true);
      assert.ok(Date.now() - began < 15_000, 'fails without waiting out JLAB_MCP_SERVER_START_TIMEOUT (60 s)');
      assert.match(
        textOf(result),
        new RegExp(
          `JUPYTER_TOKEN_REJECTED[\\s\\S]*Token rejected by ${url} \\(GET /api/status answered HTTP 403\\)[\\s\\S]*Next step: Check JLAB_MCP_JUPYTER_TOKEN / JLAB_MCP_JUPYTER_TOKEN_FILE`,
        ),
      );
      assert.ok(!textOf(result).includes('wrong-token-123456'));
    } finally {
      await server.close();
    }
  });

  it('[bad-input] nothing listens at the URL (connection refused) → JUPYTER_UNREACHABLE at once, naming host and port', async () => {
    const closedPort = await findFreePort();
    const server = await spawnServer(
      { JLAB_MCP_RUN_MODE: '', JLAB_MCP_JUPYTER_URL: `http://127.0.0.1:${closedPort}/`, JLAB_MCP_JUPYTER_TOKEN: token, JLAB_MCP_SERVER_START_TIMEOUT: '60' },
      notebookDir,
    );
    try {
      const began = Date.now();
      const result = await call(server.client, 'start_new_session', { experiment_name: 'refused' });
      assert.equal(result.isError, true);
      assert.ok(Date.now() - began < 15_000, 'fails without waiting out JLAB_MCP_SERVER_START_TIMEOUT (60 s)');
      assert.match(
        textOf(result),
        new RegExp(
          `JUPYTER_UNREACHABLE[\\s\\S]*nothing listens at 127\\.0\\.0\\.1:${closedPort} \\(connection refused\\)[\\s\\S]*Next step: Start that Jupyter server`,
        ),
      );
      assert.doesNotMatch(textOf(result), /TOKEN/, 'a server that is down is not blamed on the token');
    } finally {
      await server.close();
    }
  });
});
