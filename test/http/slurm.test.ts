// HTTP on a login node with the SLURM backend (the test cluster; skipped, saying why, without
// it): a client that only connects submits no job, one that stays gets its job after the
// prestart delay — also when it speaks the per-request revision, as Claude Code does — and
// SIGTERM cancels it. Jobs are told apart from other tests' by their working directory.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawnHttpServer } from '../helpers/httpServer.js';
import { cancelJobs, clusterSkipReason, run, waitFor, waitJobOver } from '../slurm/helpers.js';

const skip = await clusterSkipReason();
if (skip) console.error(`skipping HTTP on SLURM: ${skip}`);
const jobs = new Set<string>();
const roots: string[] = [];
after(async () => {
  await cancelJobs(jobs);
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** Jobs Slurm lists (finished ones too) whose working directory is under `root`. */
async function jobsUnder(root: string): Promise<string[]> {
  const r = await run('squeue', ['--noheader', '--states=all', '--format=%i %Z']);
  assert.equal(r.code, 0, `squeue: ${r.failure ?? r.stderr}`);
  const ids = r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, dir]) => dir !== undefined && dir.startsWith(`${root}/`))
    .map(([id]) => id!);
  for (const id of ids) jobs.add(id);
  return ids;
}

describe('HTTP with the SLURM backend: the job comes when a client stays', { skip, timeout: 180_000 }, () => {
  it('no job for a bare listener; a per-request (2026-07-28) client that stays gets one; SIGTERM cancels it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'jlab-http-slurm-'));
    roots.push(root);
    const server = await spawnHttpServer({
      JLAB_MCP_RUN_MODE: 'slurm',
      JLAB_MCP_SLURM_STATE_DIR: path.join(root, 'slurm'),
      JLAB_MCP_SLURM_PARTITION: 'debug',
      JLAB_MCP_SLURM_CPUS: '1',
      JLAB_MCP_SLURM_TIME: '10',
      JLAB_MCP_QUEUE_TIMEOUT: '60',
      JLAB_MCP_READY_TIMEOUT: '60',
      JLAB_MCP_PRESTART_DELAY: '2',
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.deepEqual(await jobsUnder(root), [], 'listening alone submits nothing');
      const client = new Client({ name: 'stays', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } }));
      await client.listTools();
      const [job] = await waitFor('a job after the prestart delay', 30_000, async () => {
        const ids = await jobsUnder(root);
        return ids.length > 0 ? ids : undefined;
      });
      await client.close();
      assert.equal(await server.stop('SIGTERM'), 0);
      await waitJobOver(job!, 30_000);
    } finally {
      await server.stop();
    }
  });

  it('[walltime] the warning reaches every connected MCP session, once each', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'jlab-http-slurm-'));
    roots.push(root);
    // 2-minute jobs with the warning at 90 s left (as test/slurm/walltime.test.ts).
    const server = await spawnHttpServer({
      JLAB_MCP_RUN_MODE: 'slurm',
      JLAB_MCP_SLURM_STATE_DIR: path.join(root, 'slurm'),
      JLAB_MCP_SLURM_PARTITION: 'debug',
      JLAB_MCP_SLURM_CPUS: '1',
      JLAB_MCP_SLURM_TIME: '2',
      JLAB_MCP_WALLTIME_WARNING: '90',
      JLAB_MCP_QUEUE_TIMEOUT: '60',
      JLAB_MCP_READY_TIMEOUT: '60',
    });
    const clients: Array<{ client: Client; warnings: string[] }> = [];
    try {
      for (const name of ['laptop', 'desktop']) {
        const client = new Client({ name, version: '0' });
        const warnings: string[] = [];
        client.setNotificationHandler('notifications/message', (notification) => {
          if (/reaches its walltime/.test(String(notification.params.data))) warnings.push(String(notification.params.data));
        });
        await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } }));
        clients.push({ client, warnings });
      }
      // A third that leaves before the warning: its server is dropped, nobody else is affected.
      const gone = new Client({ name: 'gone', version: '0' });
      const goneTransport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } });
      await gone.connect(goneTransport);
      await goneTransport.terminateSession();
      await gone.close();
      const started = await clients[0]!.client.callTool({ name: 'start_new_session', arguments: { experiment_name: 'walltime over http' } }, { timeout: 150_000 });
      assert.notEqual(started.isError, true, JSON.stringify(started.content));
      for (const id of await jobsUnder(root)) jobs.add(id);
      await waitFor('the walltime warning on both connections', 150_000, async () => (clients.every((c) => c.warnings.length > 0) ? true : undefined));
      // A little longer: a second watcher would have sent a second copy by now.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const { warnings } of clients) assert.equal(warnings.length, 1, warnings.join('\n'));
    } finally {
      for (const { client } of clients) await client.close().catch(() => {});
      await server.stop();
    }
  });
});
