import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { quoteWord as shellQuote } from '../../src/util/shell.js';
import { batchSettingsProblems, renderBatchScript, type BatchPaths, type BatchSettings } from '../../src/backends/slurm/batchScript.js';

const paths: BatchPaths = {
  jobDir: '/home/u/.jlab-mcp/slurm/job-abc',
  configFile: '/home/u/.jlab-mcp/slurm/job-abc/jlab_mcp_server_config.py',
  tokenFile: '/home/u/.jlab-mcp/slurm/job-abc/token',
  connectionFile: '/home/u/.jlab-mcp/slurm/job-abc/connection.json',
  heartbeatFile: '/home/u/.jlab-mcp/slurm/job-abc/heartbeat',
  logFile: '/home/u/.jlab-mcp/slurm/job-abc/slurm-%j.out',
  rootDir: "/home/u/my notebooks/it's here",
};
const base: BatchSettings = { jupyterCommand: ['jupyter-server'] };
const TAG = '0123456789abcdef';
const render = (s: Partial<BatchSettings>, p: Partial<BatchPaths> = {}) =>
  renderBatchScript({ ...base, ...s }, { ...paths, ...p }, { heartbeatTimeoutS: 600 }, TAG);

/** Runs `bash -n` on the script: it must at least parse. */
function bashParses(script: string): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slurm-script-'));
  try {
    const file = path.join(dir, 'job.sh');
    writeFileSync(file, script);
    execFileSync('bash', ['-n', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('shellQuote', () => {
  it('single-quotes and survives a round trip through bash', () => {
    for (const value of ['plain', "it's", '$(rm -rf /)', '`x`', 'a b\tc', '"dq"', "'", '', 'new\nline', '\\n $HOME']) {
      const out = execFileSync('bash', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
      assert.equal(out, value);
    }
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});

describe('renderBatchScript', () => {
  it('renders #SBATCH lines from validated settings, with no --gres line when gres is empty', () => {
    const { script, sbatchArgs } = render({
      partition: 'gpu',
      gres: 'gpu:a100:1',
      cpus: 8,
      mem: '32G',
      time: '1-02:00:00',
      account: 'proj_1',
      qos: 'normal',
      constraint: 'a100&ib',
    });
    for (const line of [
      '#SBATCH --partition=gpu',
      '#SBATCH --gres=gpu:a100:1',
      '#SBATCH --cpus-per-task=8',
      '#SBATCH --mem=32G',
      '#SBATCH --time=1-02:00:00',
      '#SBATCH --account=proj_1',
      '#SBATCH --qos=normal',
      '#SBATCH --constraint=a100&ib',
      `#SBATCH --job-name=jlab-mcp-${TAG}`,
    ]) {
      assert.ok(script.includes(`\n${line}\n`), line);
    }
    assert.ok(script.startsWith('#!/bin/bash\n'));
    assert.deepEqual(sbatchArgs, ['--parsable', `--job-name=jlab-mcp-${TAG}`, `--output=${paths.logFile}`, `--chdir=${paths.jobDir}`]);
    const cpuOnly = render({ gres: '' }).script;
    assert.doesNotMatch(cpuOnly, /--gres/);
    assert.doesNotMatch(cpuOnly, /--partition|--account|--qos|--mem|--constraint/);
    assert.doesNotMatch(render({}).script, /--gres/);
    bashParses(script);
    bashParses(cpuOnly);
  });

  it('starts Jupyter on the node hostname with port_retries=0, allow_remote_access and our --config, token only by file', () => {
    const { script } = render({ jupyterCommand: ['/opt/my env/bin/jupyter', 'server'] });
    assert.match(script, /"--ServerApp\.ip=\$NODE_HOST"/);
    assert.match(script, /NODE_HOST=\$\(hostname\)/);
    assert.match(script, /--ServerApp\.port_retries=0/);
    assert.match(script, /--ServerApp\.allow_remote_access=True/);
    assert.match(script, /--ServerApp\.open_browser=False/);
    assert.ok(script.includes(`--config=${paths.configFile}`));
    assert.ok(script.includes(`--ServerApp.root_dir="/home/u/my notebooks/it's here"`));
    assert.ok(script.includes(`JUPYTER=('/opt/my env/bin/jupyter' server)`));
    assert.ok(script.includes(`export JLAB_MCP_TOKEN_FILE=${paths.tokenFile}`));
    assert.match(script, /\[ "\$\(id -u\)" = 0 \] && ARGS\+=\(--allow-root\)/);
    // connection file: atomic (tmp + mv) under umask 077
    assert.match(script, /umask 077/);
    assert.match(script, /> "\$CONN_FILE\.tmp" && mv -f "\$CONN_FILE\.tmp" "\$CONN_FILE"/);
    // no exec: the script stays to clean up
    assert.doesNotMatch(script, /^\s*exec\s/m);
    assert.match(script, /trap .* TERM/);
    assert.match(script, /HEARTBEAT_TIMEOUT=600\n/);
    assert.match(script, /HEARTBEAT_CHECK=30\n/);
    bashParses(script);
  });

  it('checks the heartbeat often enough for short timeouts', () => {
    const { script } = renderBatchScript(base, paths, { heartbeatTimeoutS: 15 }, TAG);
    assert.match(script, /HEARTBEAT_TIMEOUT=15\n/);
    assert.match(script, /HEARTBEAT_CHECK=3\n/);
    assert.throws(() => renderBatchScript(base, paths, { heartbeatTimeoutS: 2 }, TAG), /at least 6/);
  });

  it('quotes module names and puts the user setup in verbatim', () => {
    const { script } = render({ modules: ['cuda/12.2', 'python/3.11'], setup: 'source ~/venvs/ml/bin/activate\nexport FOO=1' });
    assert.ok(script.includes(`module load cuda/12.2 ||`));
    assert.ok(script.includes(`module load python/3.11 ||`));
    assert.ok(script.includes('\nsource ~/venvs/ml/bin/activate\nexport FOO=1\n'));
    assert.ok(script.indexOf('module load') < script.indexOf('source ~/venvs') && script.indexOf('source ~/venvs') < script.indexOf('JUPYTER=('));
    bashParses(script);
  });

  it('refuses values that could break out of their line or their quoting', () => {
    const bad: Array<[Partial<BatchSettings>, RegExp]> = [
      [{ partition: 'debug\n#SBATCH --wrap=x' }, /JLAB_MCP_SLURM_PARTITION/],
      [{ partition: 'a b' }, /JLAB_MCP_SLURM_PARTITION/],
      [{ partition: 'gpu;rm' }, /JLAB_MCP_SLURM_PARTITION/],
      [{ account: '$(id)' }, /JLAB_MCP_SLURM_ACCOUNT/],
      [{ qos: "q'" }, /JLAB_MCP_SLURM_QOS/],
      [{ gres: 'gpu:1 --wrap' }, /JLAB_MCP_SLURM_GRES/],
      [{ time: '1 hour' }, /JLAB_MCP_SLURM_TIME/],
      [{ time: '4:00:00:00' }, /JLAB_MCP_SLURM_TIME/],
      [{ mem: '32 GB' }, /JLAB_MCP_SLURM_MEM/],
      [{ mem: '-1' }, /JLAB_MCP_SLURM_MEM/],
      [{ cpus: 0 }, /JLAB_MCP_SLURM_CPUS/],
      [{ cpus: 1.5 }, /JLAB_MCP_SLURM_CPUS/],
      [{ constraint: 'a100 b' }, /JLAB_MCP_SLURM_CONSTRAINT/],
      [{ modules: ['cuda;id'] }, /JLAB_MCP_SLURM_MODULES/],
      [{ extraArgs: ['exclusive'] }, /JLAB_MCP_SLURM_EXTRA_ARGS/],
      [{ extraArgs: ['--wrap=id'] }, /JLAB_MCP_SLURM_EXTRA_ARGS/],
      [{ extraArgs: ['--output=/tmp/x'] }, /JLAB_MCP_SLURM_EXTRA_ARGS/],
      [{ extraArgs: ['--job-name=mine'] }, /JLAB_MCP_SLURM_EXTRA_ARGS.*set by jlab-mcp itself/],
      [{ extraArgs: ['-J', 'mine'] }, /JLAB_MCP_SLURM_EXTRA_ARGS.*set by jlab-mcp itself/],
      [{ extraArgs: ['-Jmine'] }, /JLAB_MCP_SLURM_EXTRA_ARGS.*set by jlab-mcp itself/],
      [{ extraArgs: ['-o/tmp/x'] }, /JLAB_MCP_SLURM_EXTRA_ARGS.*set by jlab-mcp itself/],
      [{ jupyterCommand: [] }, /JLAB_MCP_SLURM_JUPYTER_CMD/],
    ];
    for (const [settings, message] of bad) {
      assert.throws(() => render(settings), message, JSON.stringify(settings));
    }
    const many = batchSettingsProblems({ ...base, partition: 'a b', gres: 'x y', time: 'z' });
    assert.equal(many.length, 3);
    assert.throws(() => render({}, { rootDir: 'relative' }), /absolute/);
    assert.throws(() => render({}, { rootDir: '/x\ny' }), /line break/);
    assert.throws(() => render({}, { jobDir: '/x%y' }), /%/);
  });

  it('names the job <prefix>-<tag>, in the script and on the command line after any extra argument', () => {
    const plain = render({ extraArgs: ['--exclusive'] });
    assert.equal(plain.jobName, `jlab-mcp-${TAG}`);
    assert.ok(plain.script.includes(`\n#SBATCH --job-name=jlab-mcp-${TAG}\n`));
    assert.equal(plain.sbatchArgs.filter((arg) => arg.startsWith('--job-name=')).length, 1);
    assert.ok(plain.sbatchArgs.includes(`--job-name=jlab-mcp-${TAG}`));
    const profile = render({ jobName: 'jlab-mcp-gpu' });
    assert.equal(profile.jobName, `jlab-mcp-gpu-${TAG}`);
    assert.ok(profile.sbatchArgs.includes(`--job-name=jlab-mcp-gpu-${TAG}`));
    // Two renders with different tags: two names (the name is what finds a job without its id).
    const other = renderBatchScript(base, paths, { heartbeatTimeoutS: 600 }, 'fedcba9876543210');
    assert.notEqual(other.jobName, plain.jobName);
    for (const bad of ['', 'XYZ', '0123456789abcdeF', 'abc', 'ab cd ef 01', `${TAG}\n#SBATCH --wrap=id`, '0'.repeat(33)]) {
      assert.throws(() => renderBatchScript(base, paths, { heartbeatTimeoutS: 600 }, bad), /Not a job tag/, JSON.stringify(bad));
    }
  });

  it('passes extra sbatch arguments as argv words, never into the script', () => {
    const { script, sbatchArgs } = render({ extraArgs: ['--exclusive', '--reservation=ml week'] });
    assert.deepEqual(sbatchArgs.slice(-2), ['--exclusive', '--reservation=ml week']);
    assert.doesNotMatch(script, /reservation|exclusive/);
  });

  it('accepts the time forms Slurm does', () => {
    for (const time of ['30', '5:00', '4:00:00', '1-0', '1-12:00', '2-00:00:00']) {
      assert.deepEqual(batchSettingsProblems({ ...base, time }), [], time);
    }
  });
});
