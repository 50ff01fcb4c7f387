// Pure pieces of the SLURM backend: what a squeue answer says about the serving job, the heartbeat period.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heartbeatEveryMs } from '../../src/backends/slurm/heartbeat.js';
import { lossVerdict } from '../../src/backends/slurm/loss.js';
import type { SqueueRow } from '../../src/backends/slurm/parsers.js';

const row = (state: string, reason = 'None'): SqueueRow => ({ jobId: '7', state, reason, nodes: 'vm', timeLeft: '1:00', timeUsed: '0:10', timeLimit: '1:10' });

describe('lossVerdict', () => {
  it('a running or pending job is alive', () => {
    assert.deepEqual(lossVerdict('7', { kind: 'row', row: row('RUNNING') }), { kind: 'alive' });
    assert.deepEqual(lossVerdict('7', { kind: 'row', row: row('PENDING', 'Resources') }), { kind: 'alive' });
  });

  it('an ended job is lost, in Slurm words (reason "None" left out)', () => {
    assert.deepEqual(lossVerdict('7', { kind: 'row', row: row('CANCELLED') }), {
      kind: 'lost',
      what: 'the SLURM job 7 hosting Jupyter ended: Slurm says CANCELLED.',
    });
    assert.deepEqual(lossVerdict('7', { kind: 'row', row: row('COMPLETING', 'TimeLimit') }), {
      kind: 'lost',
      what: 'the SLURM job 7 hosting Jupyter ended: Slurm says COMPLETING (TimeLimit).',
    });
    assert.equal(lossVerdict('7', { kind: 'row', row: row('TIMEOUT') }).kind, 'lost');
    assert.equal(lossVerdict('7', { kind: 'row', row: row('NODE_FAIL') }).kind, 'lost');
  });

  it('a job squeue no longer knows is lost; a failing squeue proves nothing', () => {
    assert.deepEqual(lossVerdict('7', { kind: 'gone', words: 'squeue no longer lists the job' }), {
      kind: 'lost',
      what: 'the SLURM job 7 hosting Jupyter is gone (squeue no longer lists the job).',
    });
    assert.deepEqual(lossVerdict('7', { kind: 'error', words: 'Socket timed out' }), { kind: 'unknown', words: 'Socket timed out' });
  });
});

describe('heartbeatEveryMs', () => {
  it('is a third of the timeout, within 1 s and 30 s', () => {
    assert.equal(heartbeatEveryMs(15), 5000);
    assert.equal(heartbeatEveryMs(600), 30_000);
    assert.equal(heartbeatEveryMs(2), 1000);
  });
});
