import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { hasEnded, neverStartsReason } from '../../src/backends/slurm/reasons.js';
import { isTerminalState } from '../../src/backends/slurm/parsers.js';
import { slurmOptionsFromConfig } from '../../src/backends/slurm/fromConfig.js';
import { chooseRunMode, helpText, loadConfig, parseArgs } from '../../src/config/load.js';

const binDir = mkdtempSync(path.join(os.tmpdir(), 'fake-sbatch-'));
writeFileSync(path.join(binDir, 'sbatch'), '#!/bin/sh\nexit 0\n');
chmodSync(path.join(binDir, 'sbatch'), 0o755);
const emptyDir = mkdtempSync(path.join(os.tmpdir(), 'no-sbatch-'));
after(() => {
  rmSync(binDir, { recursive: true, force: true });
  rmSync(emptyDir, { recursive: true, force: true });
});

describe('SLURM run mode', () => {
  it('defaults to slurm when sbatch is on PATH and no URL is set, and says why', () => {
    const config = loadConfig(parseArgs([]), {});
    const chosen = chooseRunMode(config, `${emptyDir}${path.delimiter}${binDir}`);
    assert.equal(chosen.mode, 'slurm');
    assert.match(chosen.reason, /sbatch found on PATH/);
    assert.ok(chosen.reason.includes(path.join(binDir, 'sbatch')));
  });

  it('stays local without sbatch; a URL or an explicit mode wins over sbatch', () => {
    const plain = loadConfig(parseArgs([]), {});
    assert.equal(chooseRunMode(plain, emptyDir).mode, 'local');
    const withUrl = loadConfig(parseArgs([]), { JLAB_MCP_JUPYTER_URL: 'http://127.0.0.1:9/' });
    assert.equal(chooseRunMode(withUrl, binDir).mode, 'external');
    const explicit = loadConfig(parseArgs([]), { JLAB_MCP_RUN_MODE: 'local' });
    assert.deepEqual(chooseRunMode(explicit, binDir), { mode: 'local', reason: 'set by JLAB_MCP_RUN_MODE / --run-mode' });
    const slurm = loadConfig(parseArgs(['--run-mode', 'slurm']), {});
    assert.equal(chooseRunMode(slurm, emptyDir).mode, 'slurm');
  });
});

describe('SLURM settings', () => {
  it('reads env and flags with defaults', () => {
    const defaults = loadConfig(parseArgs([]), {});
    assert.equal(defaults.slurmCpus, 4);
    assert.equal(defaults.slurmTime, '4:00:00');
    assert.equal(defaults.slurmJupyterCommand, 'jupyter-server');
    assert.equal(defaults.queueTimeout, 600);
    assert.equal(defaults.readyTimeout, 120);
    // The heartbeat timeout defaults to the idle timeout (a kept job lives as long as a local server).
    assert.equal(defaults.slurmHeartbeatTimeout, undefined);
    assert.equal(slurmOptionsFromConfig(defaults).heartbeatTimeoutS, 3600);
    assert.equal(defaults.walltimeWarning, 900);
    assert.equal(defaults.onWalltime, 'notify');
    assert.equal(defaults.walltimeExtend, 0);
    assert.equal(defaults.slurmKeepOnQueueTimeout, false);
    assert.equal(defaults.slurmGres, undefined);
    const env = {
      JLAB_MCP_SLURM_PARTITION: 'gpu',
      JLAB_MCP_SLURM_GRES: 'gpu:1',
      JLAB_MCP_SLURM_CPUS: '8',
      JLAB_MCP_SLURM_MEM: '32G',
      JLAB_MCP_SLURM_TIME: '2:00:00',
      JLAB_MCP_SLURM_MODULES: 'cuda/12.2 python/3.11',
      JLAB_MCP_SLURM_ACCOUNT: 'proj',
      JLAB_MCP_SLURM_QOS: 'normal',
      JLAB_MCP_SLURM_CONSTRAINT: 'a100',
      JLAB_MCP_SLURM_EXTRA_ARGS: '--exclusive',
      JLAB_MCP_SLURM_SETUP: 'source venv/bin/activate',
      JLAB_MCP_SLURM_JUPYTER_CMD: 'jupyter server',
      JLAB_MCP_SLURM_STATE_DIR: '/shared/state',
      JLAB_MCP_QUEUE_TIMEOUT: '30',
      JLAB_MCP_READY_TIMEOUT: '90',
      JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT: '15',
      JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT: 'true',
    };
    const c = loadConfig(parseArgs(['--slurm-partition', 'short', '--slurm-gres=']), env);
    assert.equal(c.slurmPartition, 'short', 'flag over env');
    assert.equal(c.slurmGres, '', 'an empty flag clears the env value');
    assert.equal(c.slurmCpus, 8);
    assert.equal(c.slurmModules, 'cuda/12.2 python/3.11');
    assert.equal(c.slurmSetup, 'source venv/bin/activate');
    assert.equal(c.slurmHeartbeatTimeout, 15);
    assert.equal(c.slurmKeepOnQueueTimeout, true);
    assert.equal(c.queueTimeout, 30);
    assert.equal(c.readyTimeout, 90);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT: 'maybe' }), /JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT/);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_SLURM_CPUS: '0' }), /JLAB_MCP_SLURM_CPUS/);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT: '2' }), /JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT/);
    assert.equal(slurmOptionsFromConfig(c).heartbeatTimeoutS, 15, 'an explicit heartbeat timeout wins over the idle timeout');
    const walltime = loadConfig(parseArgs(['--on-walltime', 'resubmit']), {
      JLAB_MCP_WALLTIME_WARNING: '120',
      JLAB_MCP_WALLTIME_EXTEND: '30',
      JLAB_MCP_REQUEST_TIMEOUT: '7',
    });
    assert.deepEqual(slurmOptionsFromConfig(walltime).walltime, { warningS: 120, policy: 'resubmit', extendMinutes: 30 });
    assert.equal(slurmOptionsFromConfig(walltime).requestTimeoutMs, 7000);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_ON_WALLTIME: 'panic' }), /JLAB_MCP_ON_WALLTIME/);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_WALLTIME_WARNING: '5' }), /JLAB_MCP_WALLTIME_WARNING/);
    const help = helpText('0');
    for (const name of ['JLAB_MCP_SLURM_PARTITION', 'JLAB_MCP_SLURM_SETUP', 'JLAB_MCP_QUEUE_TIMEOUT', 'JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT'])
      assert.ok(help.includes(name), name);
  });
});

describe('SLURM pending reasons and states', () => {
  it('knows which reasons never clear', () => {
    assert.match(neverStartsReason('PartitionTimeLimit') ?? '', /time limit/);
    assert.ok(neverStartsReason('InvalidAccount'));
    for (const r of ['Resources', 'Priority', 'None', '', 'ReqNodeNotAvail', 'BeginTime']) assert.equal(neverStartsReason(r), undefined, r);
    // Shown for a moment after submission: "never" only once it lasts.
    assert.equal(neverStartsReason('PartitionConfig', 1000), undefined);
    assert.match(neverStartsReason('PartitionConfig', 10_000) ?? '', /cannot satisfy/);
  });

  it('treats terminal and completing states as ended', () => {
    for (const s of ['CANCELLED', 'COMPLETED', 'TIMEOUT', 'FAILED', 'NODE_FAIL', 'COMPLETING', 'OUT_OF_MEMORY']) assert.ok(hasEnded(s, isTerminalState), s);
    for (const s of ['PENDING', 'RUNNING', 'CONFIGURING', 'SUSPENDED']) assert.ok(!hasEnded(s, isTerminalState), s);
  });
});
