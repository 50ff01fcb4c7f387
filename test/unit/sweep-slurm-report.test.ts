// One run's report from the scheduler's row and the runner's status file (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskRow } from '../../src/sweeps/slurm/parsers.js';
import type { RunStatus } from '../../src/sweeps/slurm/statusFile.js';
import { UNLISTED_GRACE_MS, runReportOf, type TaskFacts } from '../../src/sweeps/slurm/taskReport.js';

const facts = (over: Partial<TaskFacts>): TaskFacts => ({ index: 7, taskId: 2, schedulerAnswered: true, sinceSubmitMs: 10_000, ...over });
const row = (state: string, over: Partial<TaskRow> = {}): TaskRow => ({
  taskId: 2,
  state,
  start: '2026-12-06T22:27:36',
  end: '2026-12-06T22:29:05',
  node: 'vm',
  ...over,
});
const status = (state: RunStatus['state'], over: Partial<RunStatus> = {}): RunStatus => ({
  state,
  startedAt: '2026-12-06T22:27:37.000Z',
  node: 'n1',
  cellReached: 3,
  attempt: 1,
  ...over,
});

describe('runReportOf', () => {
  it('pending until the scheduler runs the task; the array task id is reported', () => {
    const report = runReportOf(facts({ row: row('PENDING', { start: undefined, end: undefined, node: undefined }) }));
    assert.deepEqual(report, { index: 7, state: 'pending', arrayTaskId: 2 });
  });
  it("running with the runner's start, node and cell", () => {
    const report = runReportOf(facts({ row: row('RUNNING'), status: status('running') }));
    assert.equal(report.state, 'running');
    assert.equal(report.node, 'n1');
    assert.equal(report.cellReached, 3);
    assert.equal(report.startedAt, '2026-12-06T22:27:37.000Z');
    assert.equal(report.endedAt, undefined);
  });
  it("the runner's final word wins over a still-completing task", () => {
    const report = runReportOf(facts({ row: row('COMPLETING'), status: status('failed', { error: 'ValueError: bad lr', endedAt: 'x' }) }));
    assert.deepEqual([report.state, report.error, report.endedAt], ['failed', 'ValueError: bad lr', 'x']);
  });
  it('a SIGTERM the runner read as a cancel is a walltime when Slurm says TIMEOUT', () => {
    const report = runReportOf(facts({ row: row('TIMEOUT'), status: status('cancelled', { error: 'cancelled in cell 3' }) }));
    assert.deepEqual([report.state, report.error], ['timeout', 'walltime reached in cell 3']);
  });
  it('an early walltime warning does not turn a cancel into a timeout', () => {
    const report = runReportOf(facts({ row: row('CANCELLED'), status: status('timeout', { error: 'walltime reached in cell 3' }) }));
    assert.deepEqual([report.state, report.error], ['cancelled', 'cancelled in cell 3']);
  });
  it('a task killed without a final status takes the scheduler state, with the cell reached', () => {
    assert.deepEqual(pick(runReportOf(facts({ row: row('TIMEOUT'), status: status('running') }))), ['timeout', 'walltime reached in cell 3']);
    assert.deepEqual(pick(runReportOf(facts({ row: row('OUT_OF_MEMORY'), status: status('running') }))), ['failed', 'out of memory in cell 3']);
    assert.deepEqual(pick(runReportOf(facts({ row: row('NODE_FAIL') }))), ['failed', 'node failure (the run never started)']);
    assert.deepEqual(pick(runReportOf(facts({ row: row('BOOT_FAIL') }))), ['failed', 'node boot failure (the run never started)']);
    assert.deepEqual(pick(runReportOf(facts({ row: row('CANCELLED') }))), ['cancelled', undefined]);
  });
  it("a task that failed before the runner started says the batch shell's words", () => {
    const report = runReportOf(facts({ row: row('FAILED', { exitCode: '127:0' }), outputTail: 'nbclient is not importable by /usr/bin/python3 on vm' }));
    assert.deepEqual(pick(report), ['failed', 'nbclient is not importable by /usr/bin/python3 on vm']);
    assert.deepEqual(pick(runReportOf(facts({ row: row('FAILED', { exitCode: '1:0' }) }))), [
      'failed',
      'the task ended (failed, exit 1:0) before the notebook started',
    ]);
  });
  it('a task the scheduler no longer lists: ended from its status, cancelled when asked, failed otherwise', () => {
    const late = UNLISTED_GRACE_MS + 1;
    assert.equal(runReportOf(facts({ status: status('completed'), sinceSubmitMs: late })).state, 'completed');
    assert.deepEqual(pick(runReportOf(facts({ cancelRequested: true, sinceSubmitMs: 1 }))), ['cancelled', undefined]);
    assert.equal(runReportOf(facts({ status: status('running'), sinceSubmitMs: late })).state, 'failed');
    assert.match(runReportOf(facts({ sinceSubmitMs: late })).error ?? '', /never started/);
    // Just after sbatch (accounting may lag) and without any answer, nothing is concluded.
    assert.equal(runReportOf(facts({ sinceSubmitMs: 1 })).state, 'pending');
    assert.equal(runReportOf(facts({ status: status('running'), schedulerAnswered: false, sinceSubmitMs: late })).state, 'running');
  });
  it("uses the scheduler's times and node when the runner wrote none", () => {
    const report = runReportOf(facts({ row: row('COMPLETED') }));
    assert.equal(report.node, 'vm');
    assert.equal(report.startedAt, new Date(2026, 11, 6, 22, 27, 36).toISOString());
    assert.equal(report.endedAt, new Date(2026, 11, 6, 22, 29, 5).toISOString());
  });
});

function pick(report: { state: string; error?: string }): [string, string | undefined] {
  return [report.state, report.error];
}
