import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../../src/backends/local/freePort.js';
import { call, spawnServer, textOf } from '../helpers/mcpClient.js';
import { isAlive } from '../helpers/processes.js';

/** A Jupyter server "the user already runs": started here, by hand, with its own token. */
describe('external backend', () => {
  let jupyter: ChildProcess;
  let url = '';
  const token = randomBytes(16).toString('hex');
  let notebookDir = '';

  before(async () => {
    notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-external-'));
    const port = await findFreePort();
    const args = ['--ServerApp.ip=127.0.0.1', `--ServerApp.port=${port}`, '--ServerApp.port_retries=0', '--ServerApp.open_browser=False', `--ServerApp.root_dir=${notebookDir}`];
    if (process.getuid?.() === 0) args.push('--allow-root');
    jupyter = spawn('jupyter-server', args, { env: { ...process.env, JUPYTER_TOKEN: token }, stdio: 'ignore' });
    url = `http://127.0.0.1:${port}/`;
  });
  after(() => {
    jupyter?.kill('SIGTERM');
  });

  it('runs cells on the given server, hides its token, and never stops it', async () => {
    const server = await spawnServer({ JLAB_MCP_RUN_MODE: '', JLAB_MCP_JUPYTER_URL: url, JLAB_MCP_JUPYTER_TOKEN: token, JLAB_MCP_SERVER_START_TIMEOUT: '60' }, notebookDir);
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'ext' });
      assert.equal(started.isError, undefined, textOf(started));
      assert.equal(started.structuredContent?.backend, 'external');
      const leak = await call(server.client, 'execute_code', { session_id: String(started.structuredContent?.session_id), code: `print("token is ${token}")` });
      assert.match(textOf(leak), /^token is <redacted>/);
      const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
      const text = String((status.contents[0] as { text: string }).text);
      assert.ok(!text.includes(token));
      assert.match(JSON.parse(text).server.modeReason, /JLAB_MCP_JUPYTER_URL is set/);
    } finally {
      await server.close();
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(await isAlive(jupyter.pid!), 'the external server must keep running after jlab-mcp exits');
  });

  it('says plainly when the token is wrong', async () => {
    const server = await spawnServer({ JLAB_MCP_RUN_MODE: '', JLAB_MCP_JUPYTER_URL: url, JLAB_MCP_JUPYTER_TOKEN: 'wrong-token-123456', JLAB_MCP_SERVER_START_TIMEOUT: '3' }, notebookDir);
    try {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'bad' });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /SERVER_START_FAILED[\s\S]*does not answer \/api\/status with the given token/);
      assert.ok(!textOf(result).includes('wrong-token-123456'));
    } finally {
      await server.close();
    }
  });
});
