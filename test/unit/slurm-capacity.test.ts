// What a partition's nodes have (sinfo, captured from the real one-node cluster) against what the
// job asks for; and the status of a job whose start failed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { capacityWords, memToMb, parseGres, parseSinfoCapacity, refusedForSize } from '../../src/backends/slurm/capacity.js';
import { describeJob } from '../../src/backends/slurm/format.js';
import type { Job } from '../../src/backends/slurm/job.js';

const fx = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', 'slurm', name), 'utf8');

describe('sinfo capacity', () => {
  it('reads real sinfo output: partitions, the default, CPUs and memory per node', () => {
    const groups = parseSinfoCapacity(fx('sinfo-capacity.txt'));
    assert.deepEqual(groups, [
      { partition: 'debug', isDefault: true, cpus: 16, memoryMb: 24105, gres: {}, nodes: 1 },
      { partition: 'short', isDefault: false, cpus: 16, memoryMb: 24105, gres: {}, nodes: 1 },
    ]);
    assert.equal(parseSinfoCapacity(fx('sinfo-capacity-short.txt')).length, 1);
    assert.deepEqual(parseSinfoCapacity(fx('sinfo-capacity-nosuchpartition.txt')), []);
    assert.deepEqual(parseSinfoCapacity('PARTITION|CPUS\nnot a row\n'), []);
  });

  it('reads GRES as sinfo prints them and as a job asks for them', () => {
    assert.deepEqual(parseGres('(null)'), {});
    assert.deepEqual(parseGres('gpu:4'), { gpu: 4 });
    assert.deepEqual(parseGres('gpu:a100:4(S:0,1),mps:200'), { gpu: 4, 'gpu:a100': 4, mps: 200 });
    assert.deepEqual(parseGres('gpu:a100:2,gpu:v100:2'), { gpu: 4, 'gpu:a100': 2, 'gpu:v100': 2 });
    assert.deepEqual(parseGres('gpu'), { gpu: 1 });
  });

  it("recognises sbatch's refusals of a request larger than any node (real stderr)", () => {
    assert.equal(refusedForSize(fx('sbatch-mem-too-big.stderr.txt')), true);
    assert.equal(refusedForSize(fx('sbatch-gres-gpu.stderr.txt')), true);
    assert.equal(refusedForSize(fx('sbatch-nosuchpartition.stderr.txt')), false);
  });

  it('reads --mem sizes in MB', () => {
    assert.equal(memToMb('16000'), 16000);
    assert.equal(memToMb('32G'), 32768);
    assert.equal(memToMb('512m'), 512);
    assert.equal(memToMb('1T'), 1048576);
    assert.equal(memToMb('lots'), undefined);
  });

  it('says what was asked against what the nodes have, and what does not fit', () => {
    const groups = parseSinfoCapacity(fx('sinfo-capacity.txt'));
    assert.equal(
      capacityWords({ partition: 'debug', cpus: 17 }, groups),
      'asked for 17 CPUs; the nodes of partition debug have at most 16 CPUs, 23.5G memory — no node has enough CPUs',
    );
    // No partition named: the cluster's default (debug*).
    assert.equal(
      capacityWords({ cpus: 4, mem: '64G', gres: 'gpu:1' }, groups),
      'asked for 4 CPUs, 64G memory, --gres=gpu:1; the nodes of partition debug have at most 16 CPUs, 23.5G memory, 0 gpu — no node has enough memory, gpu',
    );
    assert.equal(
      capacityWords({ partition: 'debug', cpus: 4 }, groups),
      'asked for 4 CPUs; the nodes of partition debug have at most 16 CPUs, 23.5G memory (each fits; another limit of the partition does not)',
    );
    const gpuNodes = parseSinfoCapacity('gpu|32|515000|gpu:a100:4(S:0-1)|3\ngpu|64|1031000|gpu:a100:8(S:0-1)|1\n');
    assert.equal(
      capacityWords({ partition: 'gpu', cpus: 8, gres: 'gpu:a100:16' }, gpuNodes),
      'asked for 8 CPUs, --gres=gpu:a100:16; the nodes of partition gpu have at most 64 CPUs, 1006.8G memory, 8 gpu, 8 gpu:a100 — no node has enough gpu, gpu:a100',
    );
    assert.equal(capacityWords({ partition: 'nope', cpus: 1 }, []), 'asked for 1 CPU; sinfo lists no nodes for partition nope');
  });
});

describe('SLURM status after a failed start', () => {
  const job = (row: Job['row']): Job =>
    ({ dir: '/s/job-x', logPattern: '/s/job-x/slurm-%j.out', name: 'jlab-mcp-x', id: '12', row, sweptIds: new Set() }) as unknown as Job;
  const input = { stateDir: '/s', batch: { cpus: 17, jupyterCommand: ['jupyter-server'] }, heartbeatTimeoutS: 60, lastError: 'SLURM job 12 can never start' };
  const pending = { jobId: '12', state: 'PENDING', reason: 'PartitionConfig', nodes: '', timeLeft: '5:00', timeUsed: '0:00', timeLimit: '5:00' };

  it('shows the failure and no time left, not the last PENDING row', () => {
    const failed = describeJob({ ...input, phase: 'failed', job: job(pending) });
    assert.equal(failed.state, 'failed: PartitionConfig');
    assert.equal(failed.timeLeft, undefined);
    assert.equal(failed.summary, 'the last SLURM start failed (job 12: PartitionConfig)');
    assert.equal(failed.lastError, 'SLURM job 12 can never start');
    // A job that ended on its own names Slurm's end state.
    const ended = describeJob({ ...input, phase: 'failed', job: job({ ...pending, state: 'FAILED', reason: 'NonZeroExitCode', timeLeft: '4:00' }) });
    assert.equal(ended.state, 'failed: NonZeroExitCode');
    assert.equal(describeJob({ ...input, phase: 'failed', job: job({ ...pending, state: 'COMPLETED', reason: 'None' }) }).state, 'failed: COMPLETED');
    assert.equal(describeJob({ ...input, phase: 'failed', job: undefined }).state, 'failed');
  });

  it("keeps Slurm's state and time left while the job is queued or runs", () => {
    const queued = describeJob({ ...input, phase: 'pending', job: job(pending) });
    assert.equal(queued.state, 'PENDING');
    assert.equal(queued.timeLeft, '5:00');
    const lost = describeJob({ ...input, phase: 'lost', job: job({ ...pending, state: 'RUNNING', reason: 'None', timeLeft: '3:00' }) });
    assert.equal(lost.timeLeft, undefined);
  });
});
