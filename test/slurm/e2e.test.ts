// The built binary through the official MCP client, on the real one-node Slurm.
// Needs `npm run build` first and a running cluster (scripts/slurm-cluster.sh up); skipped without one.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { SlurmTestScratch, binarySkipReason, isOver, jobState, run, slurmEnv, waitFor, waitJobOver } from './helpers.js';

const skip = await binarySkipReason();
if (skip) console.error(`skipping SLURM e2e tests: ${skip}`);

const scratch = new SlurmTestScratch();

async function spawnSlurm(env: Record<string, string> = {}): Promise<Spawned> {
  return spawnServer(slurmEnv({ JLAB_MCP_SLURM_STATE_DIR: await scratch.tempDir('jlab-slurm-state-'), ...env }));
}

async function status(server: Spawned): Promise<{ server: { state: string; modeReason: string; backend: Record<string, unknown> } }> {
  const res = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  return JSON.parse(String((res.contents[0] as { text: string }).text));
}

/** Polls the status resource until jlab-mcp has noticed that its job is gone (the server is no longer 'ready'). */
async function waitServerLost(server: Spawned, timeoutMs = 30_000): Promise<void> {
  await waitFor('jlab-mcp notices the job is gone', timeoutMs, async () => ((await status(server)).server.state !== 'ready' ? true : undefined));
}

async function currentJob(server: Spawned): Promise<string> {
  const backend = (await status(server)).server.backend;
  assert.equal(backend.kind, 'slurm');
  const id = String(backend.jobId);
  assert.match(id, /^\d+$/);
  scratch.submitted.add(id);
  return id;
}

async function newSession(server: Spawned, name: string): Promise<{ id: string; notebook: string }> {
  const started = await call(server.client, 'start_new_session', { experiment_name: name }, 150_000);
  assert.notEqual(started.isError, true, textOf(started));
  return { id: String(started.structuredContent?.session_id), notebook: String(started.structuredContent?.notebook_path) };
}

/** Rejects after `ms` (a deadline for a race); its timer does not hold the process open. */
function sleepReject(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref());
}

describe('SLURM end to end through the MCP client', { skip, timeout: 600_000 }, () => {
  it('profiles: one job per profile in use, chosen per session; progress while the job starts; unknown profile refused', async () => {
    const profilesDir = await scratch.tempDir('jlab-profiles-');
    const file = path.join(profilesDir, 'profiles.json');
    await writeFile(file, JSON.stringify({ default: 'small', profiles: { small: { cpus: 1 }, big: { cpus: 2, time: '5' } } }));
    const server = await spawnSlurm({ JLAB_MCP_SLURM_PROFILES: file });
    try {
      const progress: string[] = [];
      const big = await server.client.callTool(
        { name: 'start_new_session', arguments: { experiment_name: 'big one', profile: 'big' } },
        { timeout: 150_000, onprogress: (p) => void progress.push(p.message ?? '') },
      );
      assert.notEqual(big.isError, true, textOf(big as never));
      assert.equal((big.structuredContent as { profile: string }).profile, 'big');
      const small = await newSession(server, 'small one');
      const body = (await status(server)) as unknown as { servers: { servers: Record<string, { backend: { jobId: string } }> } };
      const jobs = Object.fromEntries(Object.entries(body.servers.servers).map(([name, s]) => [name, String(s.backend.jobId)]));
      for (const id of Object.values(jobs)) scratch.submitted.add(id);
      assert.deepEqual(Object.keys(jobs).sort(), ['big', 'small']);
      assert.notEqual(jobs.big, jobs.small);
      const cpus = await run('squeue', ['--noheader', '--jobs', `${jobs.big},${jobs.small}`, '--format=%i %C']);
      assert.match(cpus.stdout, new RegExp(`${jobs.big} 2`));
      assert.match(cpus.stdout, new RegExp(`${jobs.small} 1`));
      const ran = await call(server.client, 'execute_code', { session_id: small.id, code: 'print("small ok")' });
      assert.match(textOf(ran), /^small ok/);
      assert.ok(
        progress.some((m) => /starting the session/.test(m)),
        JSON.stringify(progress),
      );
      const unknown = await call(server.client, 'start_new_session', { experiment_name: 'x', profile: 'huge' });
      assert.equal(unknown.isError, true);
      assert.match(textOf(unknown), /Unknown profile "huge"[\s\S]*big, small|small, big/);
    } finally {
      process.kill(server.pid()!, 'SIGTERM');
      await server.close().catch(() => {});
    }
  });

  it('two sessions share one job; scancel → clear error; a new session gets a new job; SIGTERM leaves no job', async () => {
    const server = await spawnSlurm();
    const pid = server.pid()!;
    let killed = false;
    try {
      const a = await newSession(server, 'slurm-a');
      const ranA = await call(server.client, 'execute_code', { session_id: a.id, code: 'import socket; print("on", socket.gethostname(), 6*7)' });
      assert.notEqual(ranA.isError, true, textOf(ranA));
      assert.match(textOf(ranA), /on \S+ 42/);
      const job1 = await currentJob(server);
      const b = await newSession(server, 'slurm-b');
      const ranB = await call(server.client, 'execute_code', { session_id: b.id, code: 'print(1+1)' });
      assert.match(textOf(ranB), /^2/);
      assert.equal(await currentJob(server), job1, 'both sessions on one job');
      const st = await status(server);
      assert.equal(st.server.backend.state, 'RUNNING');
      assert.ok(st.server.backend.node);
      assert.ok(st.server.backend.timeLeft);
      assert.ok((st.server.backend.logs as { stdout: string }).stdout.endsWith(`slurm-${job1}.out`));

      assert.equal((await run('scancel', [job1])).code, 0);
      await waitJobOver(job1, 20_000);
      // The kernels' websockets drop and jlab-mcp asks squeue: the sessions are marked lost.
      await waitServerLost(server);
      // A call that asks for the server (list_kernels) submits a new job.
      const kernels = await call(server.client, 'list_kernels', {}, 150_000);
      assert.notEqual(kernels.isError, true, textOf(kernels));
      const afterCancel = await call(server.client, 'execute_code', { session_id: a.id, code: 'print("still here?")' });
      assert.equal(afterCancel.isError, true, textOf(afterCancel));
      assert.match(textOf(afterCancel), /start_session_resume_notebook/);
      const bToo = await call(server.client, 'execute_code', { session_id: b.id, code: 'print(3)' });
      assert.equal(bToo.isError, true, textOf(bToo));
      assert.match(textOf(bToo), /start_session_resume_notebook/);

      const c = await newSession(server, 'slurm-c');
      const ranC = await call(server.client, 'execute_code', { session_id: c.id, code: 'print(7*6)' });
      assert.match(textOf(ranC), /^42/);
      const job2 = await currentJob(server);
      assert.notEqual(job2, job1, 'a new job after the old one was cancelled');
      await validateWithPython([a.notebook, b.notebook, c.notebook]);

      process.kill(pid, 'SIGTERM');
      killed = true;
      const state = await waitJobOver(job2, 25_000);
      console.error(`job ${job2} ${state} after SIGTERM of the MCP server`);
      assert.ok(isOver(await jobState(job2)));
    } finally {
      if (!killed) process.kill(pid, 'SIGTERM');
      await server.close().catch(() => {});
    }
  });

  it('scancel mid-cell ends the cell at once, and the next execute_code reports the loss by itself', { timeout: 120_000 }, async () => {
    const server = await spawnSlurm({ JLAB_MCP_EXEC_TIMEOUT: '15' });
    try {
      const a = await newSession(server, 'slurm-direct');
      const job = await currentJob(server);
      // Progress notifications carry the cell's last line: scancel once it is running.
      let started!: () => void;
      const running$ = new Promise<void>((resolve) => (started = resolve));
      const running = server.client
        .callTool(
          { name: 'execute_code', arguments: { session_id: a.id, code: 'import time\nprint("cell started", flush=True)\ntime.sleep(90)', timeout: 100 } },
          { timeout: 120_000, onprogress: (p) => void (/cell started/.test(p.message ?? '') && started()) },
        )
        .then((r) => r as ToolResult);
      await Promise.race([
        running$,
        running.then(() => assert.fail('the cell ended before it was cancelled')),
        sleepReject(30_000, 'no progress saying the cell started'),
      ]);
      const cancelledAt = Date.now();
      assert.equal((await run('scancel', [job])).code, 0);
      const ended = await running;
      assert.ok(Date.now() - cancelledAt < 30_000, `the running cell ended ${Date.now() - cancelledAt} ms after scancel`);
      assert.equal(ended.isError, true, textOf(ended));
      assert.match(textOf(ended), /ServerLost|server was lost/i);
      await waitJobOver(job, 20_000);
      await waitServerLost(server);
      const result = await call(server.client, 'execute_code', { session_id: a.id, code: 'print(1)' }, 60_000);
      assert.equal(result.isError, true, textOf(result));
      assert.match(textOf(result), /start_session_resume_notebook/);
    } finally {
      process.kill(server.pid()!, 'SIGTERM');
      await server.close().catch(() => {});
    }
  });

  it('the 1-minute walltime runs out: the session says how to go on, and resuming its notebook works on a new job', { timeout: 240_000 }, async () => {
    const server = await spawnSlurm({ JLAB_MCP_SLURM_TIME: '1' });
    try {
      const s = await newSession(server, 'slurm-walltime');
      const ran = await call(server.client, 'execute_code', { session_id: s.id, code: 'x = 21\nprint(x * 2)' });
      assert.match(textOf(ran), /^42/);
      const job1 = await currentJob(server);
      const state = await waitJobOver(job1, 170_000);
      console.error(`job ${job1} ${state} at its 1-minute limit`);
      await waitServerLost(server);
      const kernels = await call(server.client, 'list_kernels', {}, 150_000);
      assert.notEqual(kernels.isError, true, textOf(kernels));
      const after = await call(server.client, 'execute_code', { session_id: s.id, code: 'print(x)' });
      assert.equal(after.isError, true, textOf(after));
      assert.match(textOf(after), /start_session_resume_notebook/);
      const resumed = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'slurm-walltime-2', notebook_path: s.notebook }, 150_000);
      assert.notEqual(resumed.isError, true, textOf(resumed));
      const again = await call(server.client, 'execute_code', { session_id: String(resumed.structuredContent?.session_id), code: 'print(x + 1)' });
      assert.match(textOf(again), /^22/);
      assert.notEqual(await currentJob(server), job1);
    } finally {
      process.kill(server.pid()!, 'SIGTERM');
      await server.close().catch(() => {});
    }
  });

  it('a SIGKILLed MCP server: the job ends by itself when the heartbeat goes stale', async () => {
    const server = await spawnSlurm({ JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT: '15' });
    try {
      const s = await newSession(server, 'slurm-kill');
      const ran = await call(server.client, 'execute_code', { session_id: s.id, code: 'print("alive")' });
      assert.match(textOf(ran), /alive/);
      const job = await currentJob(server);
      const t0 = Date.now();
      process.kill(server.pid()!, 'SIGKILL');
      const state = await waitJobOver(job, 60_000);
      const took = (Date.now() - t0) / 1000;
      console.error(`job ${job} ${state} ${took.toFixed(1)} s after SIGKILL of the MCP server`);
      assert.ok(took >= 8, `ended too soon (${took} s): something other than the heartbeat stopped it`);
    } finally {
      await server.close().catch(() => {});
    }
  });

  it('a request no node can fit: the answer says what was asked against what the nodes have; the status shows the failure, not PENDING', async () => {
    const sinfo = await run('sinfo', ['-h', '-p', 'debug', '-o', '%c']);
    const nodeCpus = Number.parseInt(sinfo.stdout.trim().split('\n')[0] ?? '', 10);
    assert.ok(nodeCpus > 0, sinfo.stdout + sinfo.stderr);
    const server = await spawnSlurm({ JLAB_MCP_SLURM_CPUS: String(nodeCpus + 1) });
    try {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'too big' });
      assert.equal(result.isError, true);
      assert.match(
        textOf(result),
        new RegExp(`PartitionConfig.*asked for ${nodeCpus + 1} CPUs; the nodes of partition debug have at most ${nodeCpus} CPUs`, 's'),
      );
      assert.match(textOf(result), /Next step: .*JLAB_MCP_SLURM_CPUS/);
      const { server: st } = await status(server);
      const backend = st.backend;
      scratch.submitted.add(String(backend.jobId));
      assert.equal(st.state, 'failed');
      assert.equal(backend.phase, 'failed');
      assert.equal(backend.state, 'failed: PartitionConfig');
      assert.equal(backend.timeLeft, undefined);
      assert.equal(backend.walltime, undefined);
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(String(backend.jobId), 20_000)));
    } finally {
      await server.close().catch(() => {});
    }
  });

  it("a bad partition: the tool call carries sbatch's words", async () => {
    const server = await spawnSlurm({ JLAB_MCP_SLURM_PARTITION: 'nosuchpartition' });
    try {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'bad' });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /invalid partition specified: nosuchpartition/);
      const st = await status(server);
      assert.match(st.server.modeReason, /JLAB_MCP_RUN_MODE/);
    } finally {
      await server.close().catch(() => {});
    }
  });
});
