import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import type { WalltimeEvent } from '../../src/backends/slurm/walltime.js';
import type { JupyterBackend } from '../../src/backends/types.js';
import { WalltimeNotices } from '../../src/mcp/walltimeNotices.js';
import { ServerPool } from '../../src/sessions/serverPool.js';
import { SessionManager } from '../../src/sessions/sessionManager.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A backend that starts nothing but has a walltime: the test fires its events. */
function backendWithWalltime(): { backend: JupyterBackend; fire: (event: WalltimeEvent) => void } {
  const listeners: Array<(event: WalltimeEvent) => void> = [];
  const backend: JupyterBackend = {
    kind: 'external',
    start: async () => ({ baseUrl: 'http://127.0.0.1:9/', token: '' }),
    stop: async () => {},
    checkLost: async () => undefined,
    describe: () => ({ kind: 'external', url: 'http://127.0.0.1:9/' }),
    walltime: { status: () => undefined, listen: (listener) => listeners.push(listener) },
  };
  return {
    backend,
    fire: (event) => {
      for (const listener of listeners) listener(event);
    },
  };
}

/** An MCP server watched by `notices`, and a client that collects the log notifications it hears. */
async function listeningClient(notices: WalltimeNotices): Promise<{ heard: string[]; client: Client; server: McpServer }> {
  const server = new McpServer({ name: 'walltime-test', version: '0.0.0' }, { capabilities: { logging: {} } });
  notices.watch(server);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'walltime-test', version: '0.0.0' });
  const heard: string[] = [];
  client.setNotificationHandler('notifications/message', (notification) => {
    heard.push(`${notification.params.level}: ${String(notification.params.data)}`);
  });
  await client.connect(clientSide);
  return { heard, client, server };
}

/** Resolves once `heard` holds `count` notices (the in-memory link delivers asynchronously); fails after a second. */
async function hearing(heard: string[], count: number): Promise<void> {
  for (const deadline = Date.now() + 1000; heard.length < count; ) {
    if (Date.now() > deadline) assert.fail(`heard ${heard.length} of ${count} notices: ${heard.join(' | ')}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('WalltimeNotices (owned by the app, one per session manager)', () => {
  it("tells every watching MCP server of its servers' walltime events, once each, and drops a closed one", async () => {
    const notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-walltime-'));
    dirs.push(notebookDir);
    const { backend, fire } = backendWithWalltime();
    const servers = new ServerPool({ profiles: [], defaultProfile: 'default', create: () => backend }, 'test');
    const notices = new WalltimeNotices(new SessionManager(servers, { notebookDir, kernelStartTimeoutMs: 1000 }), { resumeCellTimeoutMs: 1000 });
    servers.get(); // the supervisor (and its backend) exist from here on
    const first = await listeningClient(notices);
    const second = await listeningClient(notices);

    fire({ kind: 'warning', jobId: '12', secondsLeft: 600, policy: 'notify', message: 'SLURM job 12 ends in 10 min' });
    fire({ kind: 'extended', jobId: '12', policy: 'notify', message: 'SLURM job 12 extended by 30 min' });
    await hearing(first.heard, 2);
    await hearing(second.heard, 2);
    assert.deepEqual(first.heard, ['warning: SLURM job 12 ends in 10 min', 'info: SLURM job 12 extended by 30 min']);
    assert.deepEqual(second.heard, first.heard, 'each connected client hears it once');

    await second.client.close();
    fire({ kind: 'ending', jobId: '12', secondsLeft: 60, policy: 'notify', message: 'SLURM job 12 is ending' });
    // Sent to every audience member in one loop: once the first has it, the second would have too.
    await hearing(first.heard, 3);
    assert.equal(first.heard.at(-1), 'warning: SLURM job 12 is ending');
    assert.equal(second.heard.length, 2, 'a closed server hears nothing more');
    await first.client.close();
  });
});
