// The sweep's Slurm parsers on text captured from the local cluster (test/unit/fixtures/slurm-sweep/README.txt).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  expandArraySpec,
  parseMaxArraySize,
  parseSacctTasks,
  parseSqueueTasks,
  parseTestOnlyEstimate,
  slurmTimeToIso,
} from '../../src/sweeps/slurm/parsers.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'slurm-sweep');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const JOB = '190';
const byTask = <T extends { taskId: number }>(rows: T[]): T[] => [...rows].sort((a, b) => a.taskId - b.taskId);

describe('parseMaxArraySize', () => {
  it('reads it from a real scontrol show config', () => {
    assert.equal(parseMaxArraySize(fixture('scontrol-show-config.txt')), 1001);
  });
  it('is undefined when the config does not say', () => {
    assert.equal(parseMaxArraySize('MaxJobCount             = 10000\n'), undefined);
  });
});

describe('parseTestOnlyEstimate', () => {
  it("keeps Slurm's own estimate without the throw-away job id", () => {
    assert.equal(
      parseTestOnlyEstimate(fixture('sbatch-test-only.stderr.txt')),
      'start at 2026-12-06T22:27:33 using 1 processors on nodes vm in partition debug',
    );
  });
  it('is undefined for a refusal', () => {
    assert.equal(parseTestOnlyEstimate('sbatch: error: invalid partition specified: nope\n'), undefined);
  });
});

describe('expandArraySpec', () => {
  it('expands ranges, steps, lists and a throttle', () => {
    assert.deepEqual(expandArraySpec('0-5%2'), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(expandArraySpec('3-4'), [3, 4]);
    assert.deepEqual(expandArraySpec('1,3,5-7'), [1, 3, 5, 6, 7]);
    assert.deepEqual(expandArraySpec('0-10:5'), [0, 5, 10]);
    assert.deepEqual(expandArraySpec('7'), [7]);
  });
  it('refuses what is not a spec', () => {
    for (const bad of ['', 'a-b', '5-2', '1-2:0', '0-99999999']) assert.equal(expandArraySpec(bad, 1000), undefined, bad);
  });
});

describe('parseSqueueTasks', () => {
  it('expands the compact pending row right after sbatch', () => {
    const rows = parseSqueueTasks(fixture('squeue-array-compact.txt'), JOB);
    assert.deepEqual(
      rows.map((r) => [r.taskId, r.state]),
      [0, 1, 2, 3, 4, 5].map((id) => [id, 'PENDING']),
    );
    assert.equal(rows[0]!.start, undefined, 'N/A is no time');
  });
  it('reads one row per task with --array', () => {
    assert.deepEqual(
      parseSqueueTasks(fixture('squeue-array-submitted.txt'), JOB).map((r) => r.taskId),
      [0, 1, 2, 3, 4, 5],
    );
  });
  it('reads running, failed and throttled tasks with times, node and reason', () => {
    const rows = byTask(parseSqueueTasks(fixture('squeue-array-running.txt'), JOB));
    const failed = rows.find((r) => r.taskId === 1)!;
    assert.equal(failed.state, 'FAILED');
    assert.equal(failed.reason, 'NonZeroExitCode');
    assert.equal(failed.node, 'vm');
    assert.match(failed.start ?? '', /^2026-12-06T22:27:\d\d$/);
    const pending = rows.find((r) => r.taskId === 3)!;
    assert.deepEqual([pending.state, pending.reason, pending.node], ['PENDING', 'JobArrayTaskLimit', undefined]);
    assert.equal(rows.filter((r) => r.state === 'RUNNING').length, 2, 'the %2 throttle');
    // A pending task cancelled with scancel <job>_<task> is no longer listed (no accounting): the executor keeps its own record.
    assert.equal(
      rows.find((r) => r.taskId === 5),
      undefined,
    );
  });
  it('reads the ended states', () => {
    const states = new Map(parseSqueueTasks(fixture('squeue-array-ended.txt'), JOB).map((r) => [r.taskId, r.state]));
    assert.equal(states.get(0), 'COMPLETED');
    assert.equal(states.get(1), 'FAILED');
    assert.equal(states.get(2), 'TIMEOUT');
  });
  it("ignores another job's rows, steps and junk", () => {
    assert.deepEqual(parseSqueueTasks('191_0|RUNNING|N/A|N/A||None\n190_0.batch|RUNNING|N/A|N/A||None\nJOBID|STATE\n\n', JOB), []);
  });
});

describe('parseSacctTasks', () => {
  // Hand-written in sacct's documented --parsable2 form: the local cluster runs without accounting.
  const SACCT = [
    '190_0|COMPLETED|2026-12-06T22:27:33|2026-12-06T22:27:38|vm|0:0',
    '190_1|FAILED|2026-12-06T22:27:33|2026-12-06T22:27:35|vm|3:0',
    '190_2|TIMEOUT|2026-12-06T22:27:36|2026-12-06T22:28:40|vm|0:0',
    '190_5|CANCELLED by 0|Unknown|2026-12-06T22:27:37|None assigned|0:0',
    '190_[3-4%2]|PENDING|Unknown|Unknown|None assigned|0:0',
    '190_0.batch|COMPLETED|2026-12-06T22:27:33|2026-12-06T22:27:38|vm|0:0',
  ].join('\n');
  it('reads one row per task, expanding a pending range and skipping steps', () => {
    const rows = byTask(parseSacctTasks(SACCT, JOB));
    assert.deepEqual(
      rows.map((r) => [r.taskId, r.state]),
      [
        [0, 'COMPLETED'],
        [1, 'FAILED'],
        [2, 'TIMEOUT'],
        [3, 'PENDING'],
        [4, 'PENDING'],
        [5, 'CANCELLED'],
      ],
    );
    assert.equal(rows[1]!.exitCode, '3:0');
    assert.equal(rows[5]!.node, undefined);
    assert.equal(rows[5]!.start, undefined);
  });
});

describe('slurmTimeToIso', () => {
  it("reads Slurm's local time as an instant", () => {
    assert.equal(slurmTimeToIso('2026-12-06T22:27:33'), new Date(2026, 11, 6, 22, 27, 33).toISOString());
    assert.equal(slurmTimeToIso(undefined), undefined);
  });
});
