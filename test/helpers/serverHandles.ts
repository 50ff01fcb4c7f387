import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { createApp } from '../../src/app.js';
import { loadConfig, parseArgs } from '../../src/config/load.js';
import type { ServerEndpoint } from '../../src/jupyter/endpoint.js';
import type { ServerPool } from '../../src/sessions/serverPool.js';
import type { SessionManager } from '../../src/sessions/sessionManager.js';
import { holdsWithin } from './poll.js';

/**
 * The real MCP server (tools, sessions, a local Jupyter server and real kernels) built in this
 * test process by src/app.ts's createApp, as src/main.ts builds it, and reached by the official client through an
 * in-memory transport pair. Living in this process is what lets a test read the server's own
 * active handles and RSS.
 */
export interface InProcessServer {
  client: Client;
  sessions: SessionManager;
  servers: ServerPool;
  notebookDir: string;
  /** The local Jupyter server's endpoint (started on demand by `ready()`). */
  endpoint: () => Promise<ServerEndpoint>;
  /** Shuts every session, Jupyter and the MCP link down (the app's shutdown, as at exit); removes the notebook dir. */
  close: () => Promise<void>;
}

/**
 * Builds the server from the settings' defaults (plus `env`, e.g. JLAB_MCP_EXEC_TIMEOUT) with
 * createApp, as src/main.ts does, without a session registry (nothing outlives the test).
 */
export async function startInProcessServer(env: Record<string, string> = {}): Promise<InProcessServer> {
  const notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-leaks-'));
  const config = loadConfig(parseArgs([]), { JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: notebookDir, ...env });
  const app = await createApp(config, { version: '0.0.0-test', registry: false });
  const { sessions, servers } = app;
  const server = app.createMcpServer();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'jlab-mcp-leak-tests', version: '0.0.0' });
  await client.connect(clientSide);
  const endpoint = async () => (await servers.get().ready()).endpoint;
  const close = async () => {
    await app.shutdown();
    await client.close().catch(() => {});
    await server.close().catch(() => {});
    await rm(notebookDir, { recursive: true, force: true });
  };
  return { client, sessions, servers, notebookDir, endpoint, close };
}

/** process.getActiveResourcesInfo() counted by type, e.g. { TCPSocketWrap: 3, Timeout: 2 }. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

let gcFunction: (() => void) | undefined;

/**
 * A full garbage collection, so that RSS and heap reflect what is still reachable. The test
 * runner does not pass --expose-gc; V8 lets the flag be set late and a fresh context then sees
 * `gc`.
 */
export function forceGc(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
  gcFunction();
}

export interface ResourceSample {
  handles: Record<string, number>;
  /** Resident set size, in bytes. */
  rss: number;
  /** V8 heap in use after a full GC, in bytes. */
  heapUsed: number;
}

export function sampleResources(): ResourceSample {
  forceGc();
  const memory = process.memoryUsage();
  return { handles: handleCounts(), rss: memory.rss, heapUsed: memory.heapUsed };
}

/** Handle types whose count went up from `base` to `now` by more than `allowed[type]` (default 0). */
export function handleGrowth(base: Record<string, number>, now: Record<string, number>, allowed: Record<string, number> = {}): Record<string, number> {
  const grown: Record<string, number> = {};
  for (const [type, count] of Object.entries(now)) {
    const delta = count - (base[type] ?? 0);
    if (delta > (allowed[type] ?? 0)) grown[type] = delta;
  }
  return grown;
}

/**
 * TCP connections of this process to `port` on 127.0.0.1 in any state but TIME_WAIT/CLOSE
 * (a kernel websocket or a kept-alive REST connection holds one each). Read from /proc, so it
 * counts sockets whatever library opened them.
 */
export async function tcpConnectionsTo(port: number): Promise<number> {
  const inodes = new Set<string>();
  for (const fd of await readdir('/proc/self/fd').catch(() => [] as string[])) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]!);
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [remote, state, inode] = [fields[2]!, fields[3]!, fields[9]!];
      // 06 TIME_WAIT and 07 CLOSE hold no descriptor of ours.
      if (remote.endsWith(`:${hexPort}`) && state !== '06' && state !== '07' && inodes.has(inode)) count++;
    }
  }
  return count;
}

/** Polls `check` (every 200 ms) until it returns true or `timeoutMs` passes; returns the last verdict. */
export function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return holdsWithin('a condition', check, { timeoutMs, intervalMs: 200 });
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
