// Walltime awareness, pure parts: the signal's lead, the warning/ending steps, the footer words,
// and what the batch script does with them (USR1 trap, culling, the busy check).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { renderBatchScript } from '../../src/backends/slurm/batchScript.js';
import { formatLeft, secondsLeftNow, signalLeadSeconds, walltimeNote, walltimeStep, type WalltimeState } from '../../src/backends/slurm/walltime.js';

const paths = {
  jobDir: '/shared/j',
  configFile: '/shared/j/c.py',
  tokenFile: '/shared/j/token',
  connectionFile: '/shared/j/connection.json',
  heartbeatFile: '/shared/j/heartbeat',
  logFile: '/shared/j/slurm-%j.out',
  rootDir: '/home/u/nb',
};
const TAG = '0123456789abcdef';

function state(secondsLeft: number | undefined, at = 0): WalltimeState {
  return { jobId: '12', secondsLeft, at, warned: false, ending: false, signalled: false };
}

describe('walltime', () => {
  it('the signal lead is the warning threshold, at most half the time limit, within Slurm bounds', () => {
    assert.equal(signalLeadSeconds(900, '4:00:00'), 900);
    assert.equal(signalLeadSeconds(900, '10'), 300, 'a 10-minute job is signalled at half time, not at its start');
    assert.equal(signalLeadSeconds(90, '2'), 60);
    assert.equal(signalLeadSeconds(900, '1'), 30, 'never below 30 s');
    assert.equal(signalLeadSeconds(100_000, undefined), 65_535);
    assert.equal(signalLeadSeconds(900, 'UNLIMITED'), 900);
  });

  it('warns once under the threshold, ends once at the signal, each once per job', () => {
    const s = state(1000, 0);
    const settings = { warningS: 900, leadS: 900 };
    assert.deepEqual(walltimeStep(s, 50_000, settings), [], '950 s left: nothing');
    assert.deepEqual(walltimeStep(s, 101_000, settings), ['warning'], '899 s left');
    assert.deepEqual(walltimeStep(s, 120_000, settings), []);
    s.signalled = true;
    assert.deepEqual(walltimeStep(s, 130_000, settings), ['ending']);
    assert.deepEqual(walltimeStep(s, 140_000, settings), []);
  });

  it("ends by the estimate when Slurm's signal is late, and warns at once on a signal", () => {
    const s = state(200, 0);
    assert.deepEqual(walltimeStep(s, 0, { warningS: 900, leadS: 120 }), ['warning']);
    assert.deepEqual(walltimeStep(s, 130_000, { warningS: 900, leadS: 120 }), [], '70 s left, lead 120: the signal has a minute of slack');
    assert.deepEqual(walltimeStep(s, 141_000, { warningS: 900, leadS: 120 }), ['ending'], '59 s left');
    const unlimited = state(undefined);
    assert.deepEqual(walltimeStep(unlimited, 0, { warningS: 900, leadS: 900 }), []);
    unlimited.signalled = true;
    assert.deepEqual(walltimeStep(unlimited, 0, { warningS: 900, leadS: 900 }), ['warning', 'ending']);
  });

  it('estimates the time left between squeue answers, never below zero', () => {
    assert.equal(secondsLeftNow(state(100, 1000), 31_000), 70);
    assert.equal(secondsLeftNow(state(100, 0), 500_000), 0);
    assert.equal(secondsLeftNow(state(undefined), 0), undefined);
  });

  it('says the time left in the footer only under the threshold', () => {
    assert.equal(walltimeNote(undefined), undefined);
    assert.equal(walltimeNote({ jobId: '12', secondsLeft: 3000, warning: false, ending: false, policy: 'notify' }), undefined);
    assert.equal(walltimeNote({ jobId: '12', secondsLeft: 545, warning: true, ending: false, policy: 'notify' }), 'job 12: 9 min left');
    assert.match(
      walltimeNote({ jobId: '12', secondsLeft: 40, warning: true, ending: true, policy: 'resubmit' }) ?? '',
      /^job 12: 40 s left, ending: sessions move to a new job$/,
    );
    assert.equal(formatLeft(7500), '2 h 5 min left');
  });

  it('the batch script asks for USR1, records it, culls idle kernels and spares a busy kernel', () => {
    const { script } = renderBatchScript(
      { jupyterCommand: ['jupyter-server'], time: '2' },
      paths,
      { heartbeatTimeoutS: 60, idleTimeoutS: 30, signalLeadS: 60 },
      TAG,
    );
    assert.match(script, /^#SBATCH --signal=B:USR1@60$/m);
    assert.match(script, /trap '.*: > "\$JOB_DIR\/walltime-signal"' USR1/);
    assert.match(script, /--MappingKernelManager\.cull_idle_timeout=30/);
    assert.match(script, /--MappingKernelManager\.cull_busy=False/);
    assert.match(script, /--ServerApp\.shutdown_no_activity_timeout=30/);
    assert.match(script, /-gt "\$HEARTBEAT_TIMEOUT" \] && kernels_busy; then/);
    assert.ok(!script.includes('token ' + 'abc'), 'the token is read from its file on the node');
    execFileSync('bash', ['-n'], { input: script });
    const plain = renderBatchScript({ jupyterCommand: ['jupyter-server'] }, paths, { heartbeatTimeoutS: 60 }, TAG).script;
    assert.doesNotMatch(plain, /#SBATCH --signal|cull_idle_timeout/);
    assert.throws(() => renderBatchScript({ jupyterCommand: ['jupyter-server'] }, paths, { heartbeatTimeoutS: 60, signalLeadS: 70_000 }, TAG), /1-65535/);
  });
});
