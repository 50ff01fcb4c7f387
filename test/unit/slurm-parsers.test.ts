// Parsers for Slurm command output, tested on text captured from a real
// Slurm 22.05 one-node cluster (scripts/slurm-cluster.sh); see
// test/unit/fixtures/slurm/README.txt for how each fixture was produced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  SQUEUE_FORMAT,
  TERMINAL_JOB_STATES,
  isTerminalState,
  jobStateFromScontrol,
  parseJobIds,
  parseSbatchOutput,
  parseScontrolShowJob,
  parseScontrolShowJobs,
  parseSlurmDuration,
  parseSqueue,
} from '../../src/backends/slurm/parsers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'slurm');
const fx = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

// --------------------------------------------------------------------------- squeue by name

test('squeue --name --format=%i: real output, every job of the name', () => {
  assert.deepEqual(parseJobIds(fx('squeue-by-name.txt')), ['4', '3']);
  assert.deepEqual(parseJobIds(fx('squeue-by-name-none.txt')), []);
});

test('squeue --name --format=%i: blank lines, CRLF, a header, duplicates, noise', () => {
  assert.deepEqual(parseJobIds('\n  12 \r\n\n13\n12\n'), ['12', '13']);
  assert.deepEqual(parseJobIds('JOBID\n7\n'), ['7']);
  assert.deepEqual(parseJobIds('squeue: warning: something\n8\n'), ['8']);
  assert.deepEqual(parseJobIds('18_[1-3]\n18_1\n(null)\n'), [], 'array tasks are never ours');
  assert.deepEqual(parseJobIds(''), []);
});

// --------------------------------------------------------------------------- sbatch

test('sbatch: real plain output', () => {
  assert.deepEqual(parseSbatchOutput(fx('sbatch-plain.stdout.txt')), { jobId: '9' });
});

test('sbatch: real --parsable output', () => {
  assert.deepEqual(parseSbatchOutput(fx('sbatch-parsable.stdout.txt')), { jobId: '10' });
});

test('sbatch: --parsable with cluster (hand-written, multi-cluster setups)', () => {
  assert.deepEqual(parseSbatchOutput('123;cluster\n'), { jobId: '123', cluster: 'cluster' });
  assert.deepEqual(parseSbatchOutput('  4567;gpu-cluster  \r\n'), {
    jobId: '4567',
    cluster: 'gpu-cluster',
  });
  assert.deepEqual(parseSbatchOutput('Submitted batch job 77 on cluster alpha\n'), {
    jobId: '77',
    cluster: 'alpha',
  });
});

test('sbatch: whitespace and extra warning lines are tolerated (hand-written)', () => {
  assert.deepEqual(parseSbatchOutput('\n\n  Submitted batch job 42  \n'), { jobId: '42' });
  assert.deepEqual(parseSbatchOutput('sbatch: warning: some option is deprecated\n  99\n'), { jobId: '99' });
  assert.deepEqual(parseSbatchOutput('sbatch: warning: 3 jobs ahead of you\nSubmitted batch job 100\n'), { jobId: '100' });
});

test('sbatch: no job id -> Error quoting the output', () => {
  for (const name of ['sbatch-nosuchpartition.stderr.txt', 'sbatch-gres-gpu.stderr.txt']) {
    const text = fx(name);
    assert.throws(
      () => parseSbatchOutput(text),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, /no|could not|job id/i);
        assert.ok(e.message.includes('sbatch: error:'), e.message);
        return true;
      },
    );
  }
  // stdout of a failed submission is empty
  assert.equal(fx('sbatch-nosuchpartition.stdout.txt'), '');
  assert.throws(() => parseSbatchOutput(''), /empty output/);
  assert.throws(() => parseSbatchOutput('  \n'), /empty output/);
  // long text is truncated in the message
  const long = 'x'.repeat(5000);
  assert.throws(
    () => parseSbatchOutput(long),
    (e: unknown) => e instanceof Error && e.message.length < 400 && e.message.includes('…'),
  );
  // a number inside a sentence is not a job id
  assert.throws(() => parseSbatchOutput('sbatch: error: Batch job submission failed: 17 reasons'));
});

test('sbatch: captured error texts are what the backend will see', () => {
  assert.equal(
    fx('sbatch-nosuchpartition.stderr.txt'),
    'sbatch: error: invalid partition specified: nosuchpartition\n' + 'sbatch: error: Batch job submission failed: Invalid partition name specified\n',
  );
  assert.equal(fx('sbatch-gres-gpu.stderr.txt'), 'sbatch: error: Invalid generic resource (gres) specification\n');
  assert.equal(fx('sbatch-nosuchpartition.rc.txt').trim(), '1');
  assert.equal(fx('sbatch-gres-gpu.rc.txt').trim(), '1');
});

// --------------------------------------------------------------------------- squeue

test('squeue: format constant matches the captured command', () => {
  assert.equal(SQUEUE_FORMAT, '%i|%T|%r|%N|%L|%M|%l');
});

test('squeue: empty output -> []', () => {
  assert.deepEqual(parseSqueue(''), []);
  assert.deepEqual(parseSqueue('\n  \n'), []);
  // unknown job id: stdout is empty (error on stderr, exit 1)
  assert.deepEqual(parseSqueue(fx('squeue-unknown-id.stdout.txt')), []);
  assert.equal(fx('squeue-unknown-id.stderr.txt'), 'slurm_load_jobs error: Invalid job id specified\n');
  assert.equal(fx('squeue-unknown-id.rc.txt').trim(), '1');
  // a job purged after MinJobAge looks exactly like an unknown id
  assert.deepEqual(parseSqueue(fx('squeue-purged-id.stdout.txt')), []);
  assert.equal(fx('squeue-purged-id.stderr.txt'), fx('squeue-unknown-id.stderr.txt'));
  assert.equal(fx('squeue-purged-id.rc.txt').trim(), '1');
  // unknown + known ids: only the known one, exit 0
  assert.deepEqual(
    parseSqueue(fx('squeue-unknown-and-known.stdout.txt')).map((r) => r.jobId),
    ['14'],
  );
  assert.equal(fx('squeue-unknown-and-known.rc.txt').trim(), '0');
});

test('squeue: pending right after submit', () => {
  assert.deepEqual(parseSqueue(fx('squeue-pending-new.txt')), [
    {
      jobId: '9',
      state: 'PENDING',
      reason: 'None',
      nodes: '',
      timeLeft: '1:00',
      timeUsed: '0:00',
      timeLimit: '1:00',
    },
  ]);
});

test('squeue: running', () => {
  assert.deepEqual(parseSqueue(fx('squeue-running.txt')), [
    {
      jobId: '9',
      state: 'RUNNING',
      reason: 'None',
      nodes: 'vm',
      timeLeft: '0:57',
      timeUsed: '0:03',
      timeLimit: '1:00',
    },
  ]);
});

test('squeue: completed, failed, cancelled, timeout', () => {
  const [completed] = parseSqueue(fx('squeue-completed.txt'));
  assert.equal(completed?.state, 'COMPLETED');
  assert.equal(completed?.nodes, 'vm');
  const [failed] = parseSqueue(fx('squeue-failed.txt'));
  assert.equal(failed?.state, 'FAILED');
  assert.equal(failed?.reason, 'NonZeroExitCode');
  const [cancelled] = parseSqueue(fx('squeue-cancelled.txt'));
  assert.equal(cancelled?.state, 'CANCELLED');
  assert.equal(cancelled?.timeUsed, '0:07');
  assert.deepEqual(parseSqueue(fx('squeue-timeout.txt')), [
    {
      jobId: '16',
      state: 'TIMEOUT',
      reason: 'TimeLimit',
      nodes: 'vm',
      timeLeft: '0:00',
      timeUsed: '1:00',
      timeLimit: '1:00',
    },
  ]);
  for (const row of [completed, failed, cancelled]) assert.ok(row && isTerminalState(row.state));
});

test('squeue: mixed pending reasons and multi-day limit', () => {
  const rows = parseSqueue(fx('squeue-mixed.txt'));
  assert.equal(rows.length, 5);
  const byId = new Map(rows.map((r) => [r.jobId, r]));
  assert.equal(byId.get('12')?.reason, 'Resources');
  assert.equal(byId.get('11')?.reason, 'JobHeldUser');
  assert.equal(byId.get('11')?.timeLimit, '2-03:05:00');
  assert.equal(parseSlurmDuration(byId.get('11')?.timeLimit ?? ''), 2 * 86400 + 3 * 3600 + 5 * 60);
  assert.equal(byId.get('13')?.reason, 'BeginTime');
  assert.equal(byId.get('13')?.timeLimit, '30:00');
  assert.equal(byId.get('10')?.state, 'RUNNING');
  assert.equal(byId.get('9')?.nodes, 'vm');
  const [ptl] = parseSqueue(fx('squeue-pending-partitiontimelimit.txt'));
  assert.equal(ptl?.reason, 'PartitionTimeLimit');
  assert.equal(ptl?.state, 'PENDING');
});

test('squeue: -t all listing with UNLIMITED limits', () => {
  const rows = parseSqueue(fx('squeue-all.txt'));
  assert.equal(rows.length, 16);
  const first = rows[0];
  assert.equal(first?.timeLimit, 'UNLIMITED');
  assert.equal(first?.timeLeft, 'UNLIMITED');
  assert.equal(parseSlurmDuration(first?.timeLimit ?? ''), undefined);
  const states = new Set(rows.map((r) => r.state));
  for (const s of ['CANCELLED', 'COMPLETED', 'FAILED', 'PENDING', 'RUNNING']) {
    assert.ok(states.has(s), s);
  }
});

test('squeue: array jobs', () => {
  assert.deepEqual(
    parseSqueue(fx('squeue-array-pending.txt')).map((r) => r.jobId),
    ['18_[1-3]'],
  );
  assert.deepEqual(
    parseSqueue(fx('squeue-array-running.txt')).map((r) => [r.jobId, r.state]),
    [
      ['18_3', 'RUNNING'],
      ['18_2', 'RUNNING'],
      ['18_1', 'RUNNING'],
    ],
  );
});

test('squeue: (null) maps to empty, short lines ignored (hand-written)', () => {
  assert.deepEqual(parseSqueue('5|PENDING|(null)|(null)|INVALID|0:00|NOT_SET\n'), [
    {
      jobId: '5',
      state: 'PENDING',
      reason: '',
      nodes: '',
      timeLeft: 'INVALID',
      timeUsed: '0:00',
      timeLimit: 'NOT_SET',
    },
  ]);
  assert.deepEqual(parseSqueue('JOBID PARTITION NAME\n  6|RUNNING|None|n[01-02]|1:00|0:01|1:01  \r\n'), [
    {
      jobId: '6',
      state: 'RUNNING',
      reason: 'None',
      nodes: 'n[01-02]',
      timeLeft: '1:00',
      timeUsed: '0:01',
      timeLimit: '1:01',
    },
  ]);
});

test('parseSlurmDuration', () => {
  assert.equal(parseSlurmDuration('0:00'), 0);
  assert.equal(parseSlurmDuration('0:57'), 57);
  assert.equal(parseSlurmDuration('1:00'), 60);
  assert.equal(parseSlurmDuration('30:00'), 1800);
  assert.equal(parseSlurmDuration('1:02:03'), 3723);
  assert.equal(parseSlurmDuration('00:01:00'), 60);
  assert.equal(parseSlurmDuration('2-03:05:00'), 2 * 86400 + 3 * 3600 + 300);
  assert.equal(parseSlurmDuration('1-00:00:01'), 86401);
  assert.equal(parseSlurmDuration('3-04'), 3 * 86400 + 4 * 3600);
  assert.equal(parseSlurmDuration('3-04:05'), 3 * 86400 + 4 * 3600 + 5 * 60);
  assert.equal(parseSlurmDuration(' 5 '), 300);
  for (const s of ['INVALID', 'UNLIMITED', 'NOT_SET', 'N/A', '', 'abc', '1:2:3:4', '-1', '1-', 'x-01']) {
    assert.equal(parseSlurmDuration(s), undefined, s);
  }
});

// --------------------------------------------------------------------------- scontrol

test('scontrol: running job fields', () => {
  const f = parseScontrolShowJob(fx('scontrol-running.txt'));
  assert.equal(f['JobId'], '9');
  assert.equal(f['JobName'], 'jlab-plain');
  assert.equal(f['JobState'], 'RUNNING');
  assert.equal(f['Reason'], 'None');
  assert.equal(f['Dependency'], '(null)');
  assert.equal(f['NodeList'], 'vm');
  assert.equal(f['BatchHost'], 'vm');
  assert.equal(f['TimeLimit'], '00:01:00');
  assert.equal(f['AllocNode:Sid'], 'localhost:4921');
  assert.equal(f['CPUs/Task'], '1');
  assert.equal(f['ReqB:S:C:T'], '0:0:*:*');
  assert.equal(f['TRES'], 'cpu=1,node=1,billing=1');
  assert.equal(f['Command'], '(null)');
  assert.equal(f['WorkDir'], '/tmp/jlabcap');
  assert.equal(f['StdOut'], '/tmp/jlabcap/slurm-9.out');
  assert.equal(f['Power'], '');
  assert.deepEqual(jobStateFromScontrol(f), {
    state: 'RUNNING',
    reason: 'None',
    nodes: 'vm',
    stdOut: '/tmp/jlabcap/slurm-9.out',
    stdErr: '/tmp/jlabcap/slurm-9.out',
    exitCode: '0:0',
  });
});

test('scontrol: values with spaces and "=" (name, comment, workdir, output paths), -d', () => {
  for (const name of ['scontrol-running-tricky-d.txt', 'scontrol-running-tricky-dd.txt']) {
    const f = parseScontrolShowJob(fx(name));
    assert.equal(f['JobId'], '10');
    assert.equal(f['JobName'], 'my job x=1');
    assert.equal(f['x'], undefined);
    assert.equal(f['Comment'], 'hello world a=b');
    assert.equal(f['a'], undefined);
    assert.equal(f['WorkDir'], '/tmp/jlab capture dir');
    assert.equal(f['StdOut'], '/tmp/jlab capture dir/out 10.log');
    assert.equal(f['StdErr'], '/tmp/jlab capture dir/out 10.log');
    assert.equal(f['NodeList'], 'vm');
    // -d detail line
    assert.equal(f['Nodes'], 'vm');
    assert.equal(f['CPU_IDs'], '3');
    const s = jobStateFromScontrol(f);
    assert.equal(s.stdOut, '/tmp/jlab capture dir/out 10.log');
    assert.equal(s.state, 'RUNNING');
  }
});

test('scontrol: the --export environment is not printed', () => {
  // Job 10 was submitted with --export=ALL,JLAB_SECRET_TOKEN=supersecret-export-value
  for (const name of ['scontrol-running-tricky-d.txt', 'scontrol-running-tricky-dd.txt']) {
    assert.ok(!fx(name).includes('supersecret'), name);
    assert.ok(!fx(name).includes('JLAB_SECRET_TOKEN'), name);
  }
});

test('scontrol: script path with arguments in Command=', () => {
  const f = parseScontrolShowJob(fx('scontrol-script-with-args.txt'));
  assert.equal(f['JobName'], 'my script.sh');
  assert.equal(f['Command'], '/tmp/jlab capture dir/my script.sh arg1 arg two');
  assert.equal(f['WorkDir'], '/tmp/jlabcap');
});

test('scontrol: pending jobs', () => {
  const fresh = jobStateFromScontrol(parseScontrolShowJob(fx('scontrol-pending-new.txt')));
  assert.deepEqual(fresh, {
    state: 'PENDING',
    reason: 'None',
    nodes: '',
    stdOut: '/tmp/jlabcap/slurm-9.out',
    stdErr: '/tmp/jlabcap/slurm-9.out',
    exitCode: '0:0',
  });
  const held = parseScontrolShowJob(fx('scontrol-pending-held.txt'));
  assert.equal(held['Reason'], 'JobHeldUser');
  assert.equal(held['TimeLimit'], '2-03:05:00');
  assert.equal(held['StartTime'], 'Unknown');
  assert.equal(jobStateFromScontrol(held).nodes, '');
  assert.equal(parseScontrolShowJob(fx('scontrol-pending-resources.txt'))['Reason'], 'Resources');
  assert.equal(parseScontrolShowJob(fx('scontrol-pending-begintime.txt'))['Reason'], 'BeginTime');
  assert.equal(parseScontrolShowJob(fx('scontrol-pending-partitiontimelimit.txt'))['Reason'], 'PartitionTimeLimit');
});

test('scontrol: finished jobs', () => {
  const completed = jobStateFromScontrol(parseScontrolShowJob(fx('scontrol-completed.txt')));
  assert.equal(completed.state, 'COMPLETED');
  assert.equal(completed.exitCode, '0:0');
  const failed = jobStateFromScontrol(parseScontrolShowJob(fx('scontrol-failed.txt')));
  assert.deepEqual([failed.state, failed.reason, failed.exitCode], ['FAILED', 'NonZeroExitCode', '3:0']);
  const cancelled = jobStateFromScontrol(parseScontrolShowJob(fx('scontrol-cancelled.txt')));
  assert.deepEqual([cancelled.state, cancelled.exitCode, cancelled.nodes], ['CANCELLED', '0:15', 'vm']);
  const cancelledPending = jobStateFromScontrol(parseScontrolShowJob(fx('scontrol-cancelled-pending.txt')));
  assert.deepEqual([cancelledPending.state, cancelledPending.reason, cancelledPending.nodes], ['CANCELLED', 'JobHeldUser', '']);
  const timeout = jobStateFromScontrol(parseScontrolShowJob(fx('scontrol-timeout.txt')));
  assert.deepEqual([timeout.state, timeout.reason, timeout.exitCode], ['TIMEOUT', 'TimeLimit', '0:15']);
  for (const s of [completed, failed, cancelled, cancelledPending, timeout]) {
    assert.ok(isTerminalState(s.state), s.state);
  }
});

test('scontrol: array job prints one record per task', () => {
  const recs = parseScontrolShowJobs(fx('scontrol-array-running.txt'));
  assert.equal(recs.length, 3);
  assert.deepEqual(
    recs.map((r) => [r['JobId'], r['ArrayJobId'], r['ArrayTaskId'], r['JobName'], r['JobState']]),
    [
      ['18', '18', '3', 'jlab-array', 'RUNNING'],
      ['20', '18', '2', 'jlab-array', 'RUNNING'],
      ['19', '18', '1', 'jlab-array', 'RUNNING'],
    ],
  );
  assert.equal(parseScontrolShowJob(fx('scontrol-array-running.txt'))['ArrayTaskId'], '3');
});

test('scontrol: error / empty output -> {}', () => {
  assert.deepEqual(parseScontrolShowJob(fx('scontrol-unknown-id.stdout.txt')), {});
  assert.deepEqual(parseScontrolShowJob(fx('scontrol-unknown-id.stderr.txt')), {});
  assert.equal(fx('scontrol-unknown-id.stderr.txt'), 'slurm_load_jobs error: Invalid job id specified\n');
  assert.deepEqual(parseScontrolShowJob(''), {});
  assert.deepEqual(jobStateFromScontrol({}), { state: '', reason: '', nodes: '' });
});

test('scontrol: one-line (-o) form and token continuation (hand-written)', () => {
  const f = parseScontrolShowJob(
    'JobId=7 JobName=jlabtest UserId=root(0) JobState=RUNNING Reason=None NodeList=vm ' + 'Comment=two words WorkDir=/tmp StdOut=/tmp/slurm-7.out Power=\n',
  );
  assert.equal(f['JobName'], 'jlabtest');
  assert.equal(f['JobState'], 'RUNNING');
  assert.equal(f['Comment'], 'two words');
  assert.equal(f['WorkDir'], '/tmp');
  assert.equal(f['StdOut'], '/tmp/slurm-7.out');
  assert.equal(f['Power'], '');
  // a warning line before the record is ignored
  const g = parseScontrolShowJob('warning: x y\nJobId=3 JobName=a\n   JobState=PENDING Reason=Priority\n');
  assert.deepEqual(g, { JobId: '3', JobName: 'a', JobState: 'PENDING', Reason: 'Priority' });
});

// --------------------------------------------------------------------------- states

test('terminal states', () => {
  assert.deepEqual([...TERMINAL_JOB_STATES].sort(), [
    'BOOT_FAIL',
    'CANCELLED',
    'COMPLETED',
    'DEADLINE',
    'FAILED',
    'NODE_FAIL',
    'OUT_OF_MEMORY',
    'PREEMPTED',
    'TIMEOUT',
  ]);
  for (const s of TERMINAL_JOB_STATES) assert.equal(isTerminalState(s), true, s);
  assert.equal(isTerminalState('CANCELLED by 0'), true);
  assert.equal(isTerminalState('cancelled by 1000'), true);
  assert.equal(isTerminalState(' COMPLETED '), true);
  assert.equal(isTerminalState('CANCELLED+'), true);
  assert.equal(isTerminalState('CD'), true);
  assert.equal(isTerminalState('TO'), true);
  for (const s of ['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING', 'STOPPED', 'PD', 'R', 'CG', '']) {
    assert.equal(isTerminalState(s), false, s);
  }
});
