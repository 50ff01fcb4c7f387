// The sweep's array batch script: sbatch's arguments, the interactive job's environment, and a script bash accepts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { BatchSettings } from '../../src/backends/slurm/batchScript.js';
import { JlabError } from '../../src/util/errors.js';
import { type ArrayJobInput, arrayFiles, renderArrayScript, taskOutputFile, walltimeSignalLead } from '../../src/sweeps/slurm/arrayScript.js';

const settings: BatchSettings = {
  partition: 'gpu',
  gres: 'gpu:1',
  cpus: 4,
  mem: '16G',
  time: '2:00:00',
  modules: ['cuda/12.2'],
  setup: 'source ~/venvs/ml/bin/activate',
  extraArgs: ['--exclusive'],
  jupyterCommand: ['jupyter-server'],
  jobName: 'jlab-mcp-gpu',
};
const input: ArrayJobInput = {
  sweepId: 'sw-1a2b',
  experimentDir: "/home/u/nb/lr sweep's",
  attempt: 2,
  taskCount: 6,
  maxConcurrent: 2,
  cellTimeoutS: 600,
  kernelName: 'python3',
};

describe('renderArrayScript', () => {
  it('one array of N tasks throttled to K, output in .slurm/, the job named after the sweep and attempt', () => {
    const { sbatchArgs, jobName } = renderArrayScript(settings, input);
    assert.equal(jobName, 'jlab-mcp-gpu-sweep-sw-1a2b-a2');
    assert.deepEqual(sbatchArgs, [
      '--parsable',
      '--array=0-5%2',
      `--job-name=${jobName}`,
      `--output=/home/u/nb/lr sweep's/.slurm/attempt-2-%A_%a.out`,
      `--chdir=/home/u/nb/lr sweep's`,
      '--exclusive',
    ]);
  });
  it("carries the interactive job's resources, modules and setup, and a walltime warning", () => {
    const { script } = renderArrayScript(settings, input);
    for (const line of [
      '#SBATCH --partition=gpu',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --mem=16G',
      '#SBATCH --time=2:00:00',
      '#SBATCH --signal=B:USR1@60',
      "module load cuda/12.2 || { say 'module load cuda/12.2 failed'; exit 1; }",
      'source ~/venvs/ml/bin/activate',
    ]) {
      assert.ok(script.split('\n').includes(line), `missing: ${line}`);
    }
    assert.match(script, /exec "\$PY" .*--task-id "\$SLURM_ARRAY_TASK_ID" .*--attempt 2 .*--cell-timeout 600 --kernel python3$/m);
    assert.match(script, /--cwd \/home\/u\/nb /, "the kernel works in the source notebook's folder");
  });
  it('the walltime warning is a tenth of the limit, 10-60 s, and absent without a limit', () => {
    assert.equal(walltimeSignalLead('1'), 10);
    assert.equal(walltimeSignalLead('5'), 30);
    assert.equal(walltimeSignalLead('8:00:00'), 60);
    assert.equal(walltimeSignalLead(undefined), undefined);
  });
  it('refuses bad input before anything is written', () => {
    const refuse = (over: Partial<ArrayJobInput>, re: RegExp) =>
      assert.throws(
        () => renderArrayScript(settings, { ...input, ...over }),
        (e: unknown) => e instanceof JlabError && re.test(e.message),
      );
    refuse({ experimentDir: '/a/100%/b' }, /may not contain '%'/);
    refuse({ experimentDir: 'rel/dir' }, /absolute/);
    refuse({ maxConcurrent: 0 }, /max_concurrent/);
    refuse({ taskCount: 0 }, /at least one run/);
    refuse({ kernelName: 'py; rm -rf /' }, /kernel name/);
    assert.throws(() => renderArrayScript({ ...settings, partition: 'a b' }, input), /JLAB_MCP_SLURM_PARTITION/);
  });
  it('task output files fill in the array job and task ids', () => {
    assert.equal(taskOutputFile(arrayFiles('/x', 3), '190', 4), '/x/.slurm/attempt-3-190_4.out');
  });
});

describe('the rendered script', () => {
  it('parses, finds the Python of the Jupyter command, and says so when nbclient is missing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sweep-script-'));
    try {
      // A fake venv: bin/jupyter-server beside a bin/python3 that has no nbclient.
      const bin = path.join(dir, 'venv', 'bin');
      execFileSync('mkdir', ['-p', bin, path.join(dir, 'exp')]);
      writeFileSync(path.join(bin, 'jupyter-server'), '#!/bin/sh\n');
      writeFileSync(path.join(bin, 'python3'), `#!/bin/sh\necho "python3 $*" >> ${dir}/calls\nexit 1\n`);
      chmodSync(path.join(bin, 'jupyter-server'), 0o755);
      chmodSync(path.join(bin, 'python3'), 0o755);
      const { script } = renderArrayScript({ jupyterCommand: [path.join(bin, 'jupyter-server')] }, { ...input, experimentDir: path.join(dir, 'exp') });
      const file = path.join(dir, 'job.sh');
      writeFileSync(file, script);
      execFileSync('bash', ['-n', file]);
      let stderr = '';
      try {
        execFileSync('bash', [file], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
        assert.fail('the script should exit non-zero');
      } catch (error) {
        stderr = String((error as { stderr?: Buffer }).stderr);
        assert.equal((error as { status?: number }).status, 127);
      }
      assert.match(stderr, new RegExp(`jlab-mcp sweep task: nbclient is not importable by ${bin}/python3`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
