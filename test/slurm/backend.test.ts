// The SLURM backend against a real cluster (scripts/slurm-cluster.sh up); skipped without one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SlurmBackend, type SlurmBackendOptions } from '../../src/backends/slurm/slurmBackend.js';
import { executeOnKernel } from '../../src/jupyter/execute.js';
import { KernelHandle } from '../../src/jupyter/kernel.js';
import { JupyterRestClient } from '../../src/jupyter/restClient.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { SlurmTestScratch, backendOptions, clusterSkipReason, jobState, jobsNamed, run, waitFor, waitJobOver } from './helpers.js';

const skip = await clusterSkipReason();
if (skip) console.error(`skipping SLURM backend tests: ${skip}`);

const scratch = new SlurmTestScratch();

async function makeBackend(overrides: Partial<SlurmBackendOptions> = {}): Promise<SlurmBackend> {
  const base = await scratch.tempDir('jlab-slurm-');
  return new SlurmBackend({ ...backendOptions(base, path.join(base, 'state')), ...overrides });
}

/** One more CPU than the node has: such a job stays pending (PartitionConfig) for ever. */
async function tooManyCpus(): Promise<number> {
  const r = await run('sinfo', ['-h', '-o', '%c']);
  const cpus = Number.parseInt(r.stdout.trim().split('\n')[0] ?? '', 10);
  assert.ok(cpus > 0, `sinfo -o %c: ${r.stdout}${r.stderr}`);
  return cpus + 1;
}

interface SbatchShim {
  dir: string;
  /** The real sbatch's output (the job id), written once Slurm accepted the job. */
  acceptedFile: string;
  /** Pid of the shim (which is `sleep` after exec when it hangs). */
  pidFile: string;
}

/**
 * A directory holding an `sbatch` that submits through the real one and then loses the answer:
 * 'hang' never returns (jlab-mcp kills it at its timeout or at stop), 'garbage' prints no id.
 */
async function sbatchShim(behaviour: 'hang' | 'garbage'): Promise<SbatchShim> {
  const real = execFileSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).trim();
  const dir = await scratch.tempDir('jlab-sbatch-shim-');
  const shim: SbatchShim = { dir, acceptedFile: path.join(dir, 'accepted'), pidFile: path.join(dir, 'pid') };
  const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  const lines = [
    '#!/bin/sh',
    `echo $$ > ${q(shim.pidFile)}`,
    `${q(real)} "$@" > ${q(`${shim.acceptedFile}.tmp`)} 2>&1 || exit $?`,
    `mv ${q(`${shim.acceptedFile}.tmp`)} ${q(shim.acceptedFile)}`,
    behaviour === 'hang' ? 'exec sleep 600' : 'echo "sbatch: the controller said something new"',
  ];
  await writeFile(path.join(dir, 'sbatch'), `${lines.join('\n')}\n`, { mode: 0o755 });
  return shim;
}

/** Runs `fn` with the shim's directory first on PATH (the backend resolves sbatch per call). */
async function withShim<T>(shim: SbatchShim, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = `${shim.dir}:${saved ?? ''}`;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

/** The job the shim got accepted: recorded for cleanup, and checked to be cancelled with none of its name left. */
async function assertAcceptedJobCancelled(name: string, shim: SbatchShim, message: string): Promise<void> {
  const accepted = (await readFile(shim.acceptedFile, 'utf8')).trim();
  assert.match(accepted, /^\d+$/);
  scratch.submitted.add(accepted);
  assert.match(name, /^jlab-mcp-[0-9a-f]{16}$/);
  assert.ok(message.includes(`Slurm had accepted it anyway as job ${accepted} (found by its name ${name}); it was cancelled.`), message);
  const state = await waitJobOver(accepted, 20_000);
  assert.ok(['CANCELLED', 'GONE'].includes(state) || state.startsWith('COMPLETING'), `job ${accepted} is ${state}`);
  // squeue lists a cancelled job while it is COMPLETING: wait for the list to empty.
  await waitFor(`no job named ${name} left in the queue`, 20_000, async () => ((await jobsNamed(name)).length === 0 ? true : undefined));
}

function jobIdOf(backend: SlurmBackend): string {
  const id = backend.describe().jobId;
  assert.equal(typeof id, 'string');
  scratch.submitted.add(id as string);
  return id as string;
}

describe('SLURM backend', { skip, timeout: 400_000 }, () => {
  it('picks another port when Jupyter cannot listen on the first one (it exits before listening)', async () => {
    const base = await scratch.tempDir('jlab-slurm-port-');
    const flag = path.join(base, 'first-attempt-done');
    const wrapper = path.join(base, 'jupyter-once-busy');
    // Stands in for a port taken between picking it and binding it: the first start fails.
    await writeFile(
      wrapper,
      `#!/bin/sh\nif [ ! -e '${flag}' ]; then touch '${flag}'; echo "[E] simulated: Address already in use" >&2; exit 1; fi\nexec jupyter-server "$@"\n`,
      { mode: 0o755 },
    );
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
      assert.equal((await stat(String(info.stateDir))).mode & 0o777, 0o700);
      assert.equal((await stat(path.join(String(info.stateDir), 'connection.json'))).mode & 0o777, 0o600);
      assert.equal((await stat(path.join(String(info.stateDir), 'token'))).mode & 0o777, 0o600);

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

  it('[fault] sbatch hangs after Slurm accepted the job (killed at its timeout) → the job is found by its unique name and cancelled; no job, no sbatch left', async () => {
    const shim = await sbatchShim('hang');
    const backend = await makeBackend({ commandTimeoutMs: 4000 });
    try {
      let message = '';
      await withShim(shim, () =>
        assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
          message = error.message;
          assert.match(message, /sbatch did not complete: sbatch did not answer within 4 s/);
          return true;
        }),
      );
      assert.equal(backend.describe().jobId, undefined, 'the id was never read back');
      await assertAcceptedJobCancelled(String(backend.describe().jobName), shim, message);
      const pid = Number((await readFile(shim.pidFile, 'utf8')).trim());
      assert.deepEqual(await waitUntilGone([pid], 5000), [], 'the hung sbatch was killed');
      // Its directory is gone, so a job Slurm took even later could only exit at once.
      await assert.rejects(stat(String(backend.describe().stateDir)), /ENOENT/);
    } finally {
      await backend.stop();
    }
  });

  it('[fault] sbatch exits 0 but prints no job id → the job it submitted is found by name and cancelled', async () => {
    const shim = await sbatchShim('garbage');
    const backend = await makeBackend();
    try {
      let message = '';
      await withShim(shim, () =>
        assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
          message = error.message;
          assert.match(message, /sbatch gave no job id: sbatch: the controller said something new/);
          return true;
        }),
      );
      assert.equal(backend.describe().jobId, undefined, 'the id was never read back');
      await assertAcceptedJobCancelled(String(backend.describe().jobName), shim, message);
    } finally {
      await backend.stop();
    }
  });

  it('[fault] stop() (shutdown) while sbatch hangs after Slurm accepted the job → sbatch killed, the job cancelled by name', async () => {
    const shim = await sbatchShim('hang');
    const backend = await makeBackend({ commandTimeoutMs: 120_000 });
    let message = '';
    // The PATH change lasts until start() settles: the backend runs sbatch inside it.
    const starting = withShim(shim, () =>
      backend.start(new AbortController().signal).then(
        () => assert.fail('start() succeeded although sbatch never answered'),
        (error: Error) => {
          message = error.message;
        },
      ),
    );
    try {
      await waitFor('the shim sbatch submitted', 25_000, async () => ((await readFile(shim.acceptedFile, 'utf8').catch(() => '')) ? true : undefined));
      const pid = Number((await readFile(shim.pidFile, 'utf8')).trim());
      assert.ok(await isAlive(pid), 'sbatch hangs');
      const name = String(backend.describe().jobName);
      await backend.stop();
      await starting;
      assert.match(message, /sbatch did not complete: sbatch was stopped \(jlab-mcp is shutting down\)/);
      assert.deepEqual(await waitUntilGone([pid], 5000), [], 'stop() killed the hung sbatch');
      await assertAcceptedJobCancelled(name, shim, message);
    } finally {
      await backend.stop();
      await starting;
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

  it("sees an scancel of the job as a lost server, with Slurm's words", async () => {
    const backend = await makeBackend();
    try {
      await backend.start(new AbortController().signal);
      const jobId = jobIdOf(backend);
      assert.equal(await backend.checkLost(), undefined);
      assert.equal((await run('scancel', [jobId])).code, 0);
      await waitJobOver(jobId, 20_000);
      // Polled: the answer may be cached for a moment after the last check.
      const lost = await waitFor('checkLost reports the cancelled job', 20_000, () => backend.checkLost());
      assert.match(lost, new RegExp(`job ${jobId}`));
      assert.match(lost, /CANCELLED|COMPLETING|gone/);
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
      const lost = await waitFor('checkLost reports the job', 20_000, () => backend.checkLost());
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
      const lost = await waitFor('checkLost reports the job', 20_000, () => backend.checkLost());
      // Polled right after the end: Slurm may still say COMPLETING (TimeLimit), then TIMEOUT.
      assert.match(lost, /TIMEOUT|COMPLETING \(TimeLimit\)|gone/);
    } finally {
      await backend.stop();
    }
  });

  it('fails when the request can never fit the partition (PartitionConfig that lasts), saying what was asked against what the nodes have', async () => {
    const cpus = await tooManyCpus();
    const backend = await makeBackend({ batch: { partition: 'debug', cpus, time: '5', jupyterCommand: ['jupyter-server'] } });
    try {
      const t0 = Date.now();
      const error = await backend.start(new AbortController().signal).then(
        () => assert.fail('the start should fail'),
        (e: unknown) => e as Error & { hint?: string },
      );
      assert.match(error.message, /can never start.*PartitionConfig/s);
      assert.match(
        error.message,
        new RegExp(
          `asked for ${cpus} CPUs; the nodes of partition debug have at most ${cpus - 1} CPUs, [\\d.]+[GM] memory — no node has enough CPUs\\. It was cancelled\\.`,
        ),
      );
      assert.match(error.hint ?? '', /JLAB_MCP_SLURM_CPUS/);
      assert.ok(Date.now() - t0 < 25_000);
      // The status after the failure: not the stale PENDING row with its whole time limit left.
      const info = backend.describe();
      assert.equal(info.phase, 'failed');
      assert.equal(info.state, 'failed: PartitionConfig');
      assert.equal(info.timeLeft, undefined);
      assert.equal(info.walltime, undefined);
      assert.match(String(info.summary), /the last SLURM start failed \(job \d+: PartitionConfig\)/);
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobIdOf(backend), 20_000)));
    } finally {
      await backend.stop();
    }
  });

  it('adds what the nodes have to sbatch refusing more memory than any node has', async () => {
    const backend = await makeBackend({ batch: { partition: 'debug', cpus: 1, mem: '1T', time: '5', jupyterCommand: ['jupyter-server'] } });
    try {
      const error = await backend.start(new AbortController().signal).then(
        () => assert.fail('the start should fail'),
        (e: unknown) => e as Error & { hint?: string },
      );
      assert.match(error.message, /Memory specification can not be satisfied/);
      assert.match(
        error.message,
        /asked for 1 CPU, 1T memory; the nodes of partition debug have at most \d+ CPUs, [\d.]+[GM] memory — no node has enough memory\./,
      );
      assert.match(error.hint ?? '', /JLAB_MCP_SLURM_CPUS, _MEM/);
      assert.equal(backend.describe().phase, 'failed');
    } finally {
      await backend.stop();
    }
  });

  it('keeps a job still queued at the queue timeout when asked to, and waits for it again', async () => {
    const backend = await makeBackend({
      batch: { partition: 'debug', cpus: await tooManyCpus(), time: '5', jupyterCommand: ['jupyter-server'] },
      queueTimeoutMs: 2000,
      keepOnQueueTimeout: true,
    });
    try {
      await assert.rejects(backend.start(new AbortController().signal), /still queued after 2 s.*It was kept/s);
      const jobId = jobIdOf(backend);
      assert.equal(await jobState(jobId), 'PENDING');
      assert.equal(backend.describe().phase, 'pending');
      await assert.rejects(backend.start(new AbortController().signal), /It was kept/);
      assert.equal(backend.describe().jobId, jobId, 'the same job, not a new one');
      await backend.stop();
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobId, 20_000)));
    } finally {
      await backend.stop();
    }
  });

  it('cancels a job still queued at the queue timeout', async () => {
    // More CPUs than the node has: pending for ever.
    const backend = await makeBackend({
      batch: { partition: 'debug', cpus: await tooManyCpus(), time: '5', jupyterCommand: ['jupyter-server'] },
      queueTimeoutMs: 3000,
    });
    try {
      await assert.rejects(backend.start(new AbortController().signal), (error: Error) => {
        assert.match(error.message, /still queued after 3 s/);
        assert.match(error.message, /cancelled/);
        return true;
      });
      const jobId = jobIdOf(backend);
      assert.ok(['CANCELLED', 'GONE'].includes(await waitJobOver(jobId, 20_000)), await jobState(jobId));
    } finally {
      await backend.stop();
    }
  });
});
