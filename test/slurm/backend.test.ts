// The SLURM backend against a real cluster (scripts/slurm-cluster.sh up); skipped without one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SlurmBackend, type SlurmBackendOptions } from '../../src/backends/slurm/slurmBackend.js';
import { executeOnKernel } from '../../src/jupyter/execute.js';
import { KernelHandle } from '../../src/jupyter/kernel.js';
import { JupyterRestClient } from '../../src/jupyter/restClient.js';
import { cancelJobs, clusterSkipReason, jobState, run, waitJobOver } from './helpers.js';

const skip = await clusterSkipReason();
if (skip) console.error(`skipping SLURM backend tests: ${skip}`);

const submitted = new Set<string>();
const dirs: string[] = [];
after(async () => {
  await cancelJobs(submitted);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function makeBackend(overrides: Partial<SlurmBackendOptions> = {}): Promise<SlurmBackend> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'jlab-slurm-'));
  dirs.push(base);
  return new SlurmBackend({
    batch: { partition: 'debug', cpus: 1, time: '5', jupyterCommand: ['jupyter-server'] },
    rootDir: base,
    stateDir: path.join(base, 'state'),
    queueTimeoutMs: 30_000,
    readyTimeoutMs: 60_000,
    heartbeatTimeoutS: 60,
    keepOnQueueTimeout: false,
    ...overrides,
  });
}

function jobIdOf(backend: SlurmBackend): string {
  const id = backend.describe().jobId;
  assert.equal(typeof id, 'string');
  submitted.add(id as string);
  return id as string;
}

describe('SLURM backend', { skip, timeout: 400_000 }, () => {
  it('picks another port when Jupyter cannot listen on the first one (it exits before listening)', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'jlab-slurm-port-'));
    dirs.push(base);
    const flag = path.join(base, 'first-attempt-done');
    const wrapper = path.join(base, 'jupyter-once-busy');
    // Stands in for a port taken between picking it and binding it: the first start fails.
    await writeFile(wrapper, `#!/bin/sh\nif [ ! -e '${flag}' ]; then touch '${flag}'; echo "[E] simulated: Address already in use" >&2; exit 1; fi\nexec jupyter-server "$@"\n`, { mode: 0o755 });
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 1, time: '5', jupyterCommand: [wrapper] } });
    try {
      const endpoint = await backend.start(new AbortController().signal);
      jobIdOf(backend);
      assert.ok(await new JupyterRestClient(endpoint).isUp());
      const log = await readFile(String((backend.describe().logs as { stdout: string }).stdout), 'utf8');
      assert.match(log, /simulated: Address already in use/);
      assert.match(log, /Jupyter exited with code 1 before listening on port \d+/);
      assert.match(log, /\(attempt 2\)/);
    } finally {
      await backend.stop();
    }
  });

  it('starts Jupyter in a job, runs 1+1 in a kernel, keeps the token out of Slurm and argv, stops the job', async () => {
    const backend = await makeBackend();
    try {
      const t0 = Date.now();
      const endpoint = await backend.start(new AbortController().signal);
      const jobId = jobIdOf(backend);
      console.error(`job ${jobId} ready at ${endpoint.baseUrl} in ${Date.now() - t0} ms`);
      const info = backend.describe();
      assert.equal(info.phase, 'ready');
      assert.match(String(info.summary), new RegExp(`SLURM job ${jobId} running on \\S+, Jupyter ready, time left`));
      assert.equal(info.state, 'RUNNING');
      assert.ok(info.node);
      assert.ok(info.timeLeft);
      assert.match(String((info.logs as { stdout: string }).stdout), new RegExp(`slurm-${jobId}\\.out$`));
      assert.equal(((await stat(String(info.stateDir))).mode & 0o777), 0o700);
      assert.equal(((await stat(path.join(String(info.stateDir), 'connection.json'))).mode & 0o777), 0o600);
      assert.equal(((await stat(path.join(String(info.stateDir), 'token'))).mode & 0o777), 0o600);

      const rest = new JupyterRestClient(endpoint);
      const kernel = await KernelHandle.start(rest, undefined, 60_000);
      try {
        let result = '';
        const { end } = executeOnKernel(kernel, '1+1', (msg) => {
          if (msg.header.msg_type === 'execute_result') result = String((msg.content as { data: Record<string, string> }).data['text/plain']);
        });
        assert.equal((await end).kind, 'ok');
        assert.equal(result, '2');
      } finally {
        await kernel.shutdown();
      }

      const token = endpoint.token;
      assert.ok(token.length >= 32);
      const scontrol = await run('scontrol', ['show', 'job', '-dd', jobId]);
      assert.equal(scontrol.code, 0, scontrol.stderr);
      assert.ok(!scontrol.stdout.includes(token), 'token in scontrol show job');
      const script = await run('scontrol', ['write', 'batch_script', jobId, '-']);
      if (script.code === 0) assert.ok(!script.stdout.includes(token), 'token in the batch script');
      const ps = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
      assert.ok(!ps.includes(token), 'token in ps argv');
      assert.match(ps, /--ServerApp\.port_retries=0/);

      assert.equal(await backend.checkLost(), undefined);
      await backend.stop();
      const state = await waitJobOver(jobId, 20_000);
      console.error(`job ${jobId} ${state} after stop()`);
      await assert.rejects(stat(String(info.stateDir)), /ENOENT/);
    } finally {
      await backend.stop();
    }
  });

  it('reports sbatch refusing a bad partition in its own words', async () => {
    const backend = await makeBackend({ batch: { partition: 'nosuchpartition', cpus: 1, time: '5', jupyterCommand: ['jupyter-server'] } });
    try {
      await assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
        assert.match(error.message, /invalid partition specified: nosuchpartition/);
        return true;
      });
    } finally {
      await backend.stop();
    }
  });

  it('fails at once when the time limit is above the partition maximum (PartitionTimeLimit)', async () => {
    const backend = await makeBackend({ batch: { partition: 'short', cpus: 1, time: '30', jupyterCommand: ['jupyter-server'] } });
    try {
      const t0 = Date.now();
      await assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
        assert.match(error.message, /PartitionTimeLimit/);
        return true;
      });
      assert.ok(Date.now() - t0 < 20_000);
      const jobId = jobIdOf(backend);
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobId, 20_000)));
    } finally {
      await backend.stop();
    }
  });

  it('reports a job whose Jupyter cannot start with the tail of the job log', async () => {
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 1, time: '5', jupyterCommand: ['/nonexistent/jupyter-server'] } });
    try {
      await assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
        assert.match(error.message, /before Jupyter/);
        assert.match(error.message, /Jupyter command not found on the node: \/nonexistent\/jupyter-server/);
        return true;
      });
      jobIdOf(backend);
    } finally {
      await backend.stop();
    }
  });

  it('sees an scancel of the job as a lost server, with Slurm\'s words', async () => {
    const backend = await makeBackend();
    try {
      await backend.start(new AbortController().signal);
      const jobId = jobIdOf(backend);
      assert.equal(await backend.checkLost(), undefined);
      assert.equal((await run('scancel', [jobId])).code, 0);
      await waitJobOver(jobId, 20_000);
      await new Promise((r) => setTimeout(r, 2100)); // past the checkLost cache
      const lost = await backend.checkLost();
      assert.ok(lost, 'checkLost reports the job');
      assert.match(lost, new RegExp(`job ${jobId}`));
      assert.match(lost, /CANCELLED|gone/);
      assert.equal(backend.describe().phase, 'lost');
    } finally {
      await backend.stop();
    }
  });

  it('sees Jupyter crashing inside the job as a lost server, with the job log', async () => {
    const backend = await makeBackend();
    try {
      await backend.start(new AbortController().signal);
      const jobId = jobIdOf(backend);
      const conn = JSON.parse(await readFile(path.join(String(backend.describe().stateDir), 'connection.json'), 'utf8')) as { pid: number };
      process.kill(conn.pid, 'SIGKILL');
      const state = await waitJobOver(jobId, 20_000);
      console.error(`job ${jobId} ${state} after its Jupyter was killed`);
      await new Promise((r) => setTimeout(r, 2100));
      const lost = await backend.checkLost();
      assert.ok(lost);
      assert.match(lost, /Jupyter exited with code/);
    } finally {
      await backend.stop();
    }
  });

  it('sees the walltime running out as a lost server (TIMEOUT)', { timeout: 200_000 }, async () => {
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 1, time: '1', jupyterCommand: ['jupyter-server'] } });
    try {
      await backend.start(new AbortController().signal);
      const jobId = jobIdOf(backend);
      const state = await waitJobOver(jobId, 170_000);
      console.error(`job ${jobId} ${state} at its 1-minute time limit`);
      await new Promise((r) => setTimeout(r, 2100));
      const lost = await backend.checkLost();
      assert.ok(lost);
      assert.match(lost, /TIMEOUT|gone/);
    } finally {
      await backend.stop();
    }
  });

  it('fails when the request can never fit the partition (PartitionConfig that lasts)', async () => {
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 17, time: '5', jupyterCommand: ['jupyter-server'] } });
    try {
      const t0 = Date.now();
      await assert.rejects(backend.start(new AbortController().signal), /can never start.*PartitionConfig/s);
      assert.ok(Date.now() - t0 < 25_000);
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobIdOf(backend), 20_000)));
    } catch (error) {
      if (!/sbatch refused/.test(String(error))) throw error;
    } finally {
      await backend.stop();
    }
  });

  it('keeps a job still queued at the queue timeout when asked to, and waits for it again', async () => {
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 17, time: '5', jupyterCommand: ['jupyter-server'] }, queueTimeoutMs: 2000, keepOnQueueTimeout: true });
    try {
      await assert.rejects(backend.start(new AbortController().signal), /still queued after 2 s.*It was kept/s);
      const jobId = jobIdOf(backend);
      assert.equal(await jobState(jobId), 'PENDING');
      assert.equal(backend.describe().phase, 'pending');
      await assert.rejects(backend.start(new AbortController().signal), /It was kept/);
      assert.equal(backend.describe().jobId, jobId, 'the same job, not a new one');
      await backend.stop();
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobId, 20_000)));
    } catch (error) {
      if (!/sbatch refused/.test(String(error))) throw error;
    } finally {
      await backend.stop();
    }
  });

  it('cancels a job still queued at the queue timeout', async () => {
    // 17 CPUs on a 16-CPU node: pending (Resources) for ever.
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 17, time: '5', jupyterCommand: ['jupyter-server'] }, queueTimeoutMs: 3000 });
    try {
      await assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
        assert.match(error.message, /still queued after 3 s/);
        assert.match(error.message, /cancelled/);
        return true;
      });
      const jobId = jobIdOf(backend);
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobId, 20_000)), await jobState(jobId));
    } catch (error) {
      // sbatch may refuse 17 CPUs outright on some configurations; that is fine too.
      if (!/sbatch refused/.test(String(error))) throw error;
    } finally {
      await backend.stop();
    }
  });
});
