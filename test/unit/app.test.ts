import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { createApp } from '../../src/app.js';
import { loadConfig, parseArgs } from '../../src/config/load.js';
import { SessionRegistry } from '../../src/state/registry.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Settings for an external server that is never reached: building the app starts nothing. */
async function externalSettings(): Promise<{ config: ReturnType<typeof loadConfig>; stateDir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-app-'));
  dirs.push(dir);
  const stateDir = path.join(dir, 'state');
  const config = loadConfig(parseArgs([]), {
    JLAB_MCP_JUPYTER_URL: 'http://127.0.0.1:9/',
    JLAB_MCP_NOTEBOOK_DIR: path.join(dir, 'notebooks'),
    JLAB_MCP_STATE_DIR: stateDir,
  });
  return { config, stateDir };
}

describe('createApp', () => {
  it('builds the parts from the settings; its MCP servers announce the version and serve the tools', async () => {
    const { config, stateDir } = await externalSettings();
    const app = await createApp(config, { version: '9.9.9' });
    try {
      assert.equal(app.mode, 'external');
      assert.equal(app.stateDir, stateDir);
      assert.equal(app.toolContext.sessions, app.sessions);
      assert.equal(app.sessions.servers, app.servers);
      assert.equal(app.servers.get().backend.describe().kind, 'external');
      assert.equal(app.toolContext.execTimeoutMs, config.execTimeout * 1000, 'settings in seconds become ms');
      const owned = JSON.parse(await readFile(path.join(stateDir, 'registry.json'), 'utf8')) as { owner: { pid: number } };
      assert.equal(owned.owner.pid, process.pid, 'the registry is open and ours');

      const server = app.createMcpServer();
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: 'app-test', version: '0.0.0' });
      await client.connect(clientSide);
      assert.equal(client.getServerVersion()?.version, '9.9.9');
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(tools.includes('execute_code') && tools.includes('start_new_session'), tools.join(', '));
      await client.close();
      await server.close();
    } finally {
      await app.shutdown();
    }
    // shutdown released the registry: the next owner writes it.
    const next = await SessionRegistry.open(stateDir);
    assert.equal(next.writable, true, next.readOnlyReason);
    await next.flush(true);
  });

  it('keeps no registry when told not to (the in-process test server)', async () => {
    const { config, stateDir } = await externalSettings();
    const app = await createApp(config, { version: '0.0.0', registry: false });
    assert.equal(app.sessions.describeState(), null);
    await app.shutdown();
    await assert.rejects(readFile(path.join(stateDir, 'registry.json')), /ENOENT/);
  });
});
