// HTTP on a login node with the SLURM backend (the test cluster; skipped, saying why, without
// it): a client that only connects submits no job, one that stays gets its job after the
// prestart delay — also when it speaks the per-request revision, as Claude Code does — and
// SIGTERM cancels it. Jobs are told apart from other tests' by their working directory.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawnHttpServer, type HttpSpawned } from '../helpers/httpServer.js';
import { SlurmTestScratch, clusterSkipReason, jobsUnder, slurmEnv, waitFor, waitJobOver } from '../slurm/helpers.js';

const skip = await clusterSkipReason();
if (skip) console.error(`skipping HTTP on SLURM: ${skip}`);
const scratch = new SlurmTestScratch();

function bearerTransport(server: HttpSpawned): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } });
}

describe('HTTP with the SLURM backend: the job comes when a client stays', { skip, timeout: 180_000 }, () => {
  it('no job for a bare listener; a per-request (2026-07-28) client that stays gets one; SIGTERM cancels it', async () => {
    const root = await scratch.tempDir('jlab-http-slurm-');
    const server = await spawnHttpServer(slurmEnv({ JLAB_MCP_SLURM_STATE_DIR: path.join(root, 'slurm'), JLAB_MCP_PRESTART_DELAY: '2' }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.deepEqual(await jobsUnder(root, scratch.submitted), [], 'listening alone submits nothing');
      const client = new Client({ name: 'stays', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(bearerTransport(server));
      await client.listTools();
      const [job] = await waitFor('a job after the prestart delay', 30_000, async () => {
        const ids = await jobsUnder(root, scratch.submitted);
        return ids.length > 0 ? ids : undefined;
      });
      await client.close();
      assert.equal(await server.stop('SIGTERM'), 0);
      await waitJobOver(job!, 30_000);
    } finally {
      await server.stop();
    }
  });

  it('[walltime] resubmit with only a per-request (2026-07-28) client: the session still moves to a new job', async () => {
    const root = await scratch.tempDir('jlab-http-slurm-');
    const server = await spawnHttpServer(
      slurmEnv({
        JLAB_MCP_SLURM_STATE_DIR: path.join(root, 'slurm'),
        JLAB_MCP_SLURM_TIME: '2',
        JLAB_MCP_WALLTIME_WARNING: '90',
        JLAB_MCP_ON_WALLTIME: 'resubmit',
      }),
    );
    // As Claude Code: no MCP session, so no server of ours that watches the walltime lives on.
    const client = new Client({ name: 'modern', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    try {
      await client.connect(bearerTransport(server));
      const started = await client.callTool({ name: 'start_new_session', arguments: { experiment_name: 'walltime per request' } }, { timeout: 150_000 });
      assert.notEqual(started.isError, true, JSON.stringify(started.content));
      const session = String((started.structuredContent as { session_id?: string } | undefined)?.session_id);
      await client.callTool({ name: 'execute_code', arguments: { session_id: session, code: 'x = 21' } });
      const [first] = await jobsUnder(root, scratch.submitted);
      await waitFor('a second job (the resubmission)', 150_000, async () => ((await jobsUnder(root, scratch.submitted)).length > 1 ? true : undefined));
      // The move ends once the new job runs and the notebook is replayed: the next cell after it says so, once.
      const text = await waitFor('the session on the new job', 150_000, async () => {
        const after = await client.callTool({ name: 'execute_code', arguments: { session_id: session, code: 'print(x * 2)' } }, { timeout: 120_000 });
        const out = (after.content as Array<{ text?: string }>).map((part) => part.text ?? '').join('\n');
        if (/moved from SLURM job/.test(out)) return out;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        return undefined;
      });
      assert.match(text, /^42/);
      assert.match(text, new RegExp(`Session ${session} moved from SLURM job ${first} \\(walltime\\)`));
    } finally {
      await client.close().catch(() => {});
      await server.stop();
    }
  });

  it('[walltime] the warning reaches every connected MCP session, once each', async () => {
    const root = await scratch.tempDir('jlab-http-slurm-');
    // 2-minute jobs with the warning at 90 s left (as test/slurm/walltime.test.ts).
    const server = await spawnHttpServer(
      slurmEnv({ JLAB_MCP_SLURM_STATE_DIR: path.join(root, 'slurm'), JLAB_MCP_SLURM_TIME: '2', JLAB_MCP_WALLTIME_WARNING: '90' }),
    );
    const clients: Array<{ client: Client; warnings: string[] }> = [];
    try {
      for (const name of ['laptop', 'desktop']) {
        const client = new Client({ name, version: '0' });
        const warnings: string[] = [];
        client.setNotificationHandler('notifications/message', (notification) => {
          if (/reaches its walltime/.test(String(notification.params.data))) warnings.push(String(notification.params.data));
        });
        await client.connect(bearerTransport(server));
        clients.push({ client, warnings });
      }
      // A third that leaves before the warning: its server is dropped, nobody else is affected.
      const gone = new Client({ name: 'gone', version: '0' });
      const goneTransport = bearerTransport(server);
      await gone.connect(goneTransport);
      await goneTransport.terminateSession();
      await gone.close();
      const started = await clients[0]!.client.callTool(
        { name: 'start_new_session', arguments: { experiment_name: 'walltime over http' } },
        { timeout: 150_000 },
      );
      assert.notEqual(started.isError, true, JSON.stringify(started.content));
      await jobsUnder(root, scratch.submitted); // recorded, so the clean-up cancels the job if an assertion below fails
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
