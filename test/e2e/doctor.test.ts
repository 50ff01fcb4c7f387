// `jlab-mcp doctor` (the built binary) on this real machine: Jupyter, kernelspecs, Slurm, the
// notebook and state directories — and with broken settings: an unwritable notebook directory,
// no Jupyter on PATH with the set-up off, a state directory others can read, a bad value.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/cli/doctorCheck.js';
import { withDeadline } from '../../src/util/deadline.js';
import { which } from '../../src/util/which.js';
import { CLI } from '../helpers/mcpClient.js';

interface Report {
  ok: boolean;
  checks: { name: string; status: 'ok' | 'problem' | 'note'; detail: string; fix?: string }[];
}

const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-doctor-'));
  scratch.push(dir);
  return dir;
}

function doctor(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const byName = (report: Report, name: string) => report.checks.find((check) => check.name === name)!;

describe('jlab-mcp doctor', () => {
  it('this machine, local mode: every check ok; the Python kernel found with its program', async () => {
    const dir = await tempDir();
    const { code, stdout } = await doctor(['--json'], { JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: dir, JLAB_MCP_STATE_DIR: path.join(dir, 'state') });
    const report = JSON.parse(stdout) as Report;
    assert.equal(code, 0, stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((check) => check.name),
      ['node', 'run mode', 'jupyter', 'kernelspecs', 'slurm', 'notebook directory', 'state directory'],
    );
    assert.match(byName(report, 'jupyter').detail, /jupyter-server \(version \d+\.\d+/);
    assert.match(byName(report, 'kernelspecs').detail, /python3 \(python3 runs \/\S*python3?/);
    assert.equal(byName(report, 'notebook directory').status, 'ok');
    assert.equal(byName(report, 'state directory').status, 'note', 'not made yet: doctor only looks');
  });

  it('slurm mode on the test cluster: the commands found and Slurm answering', { skip: which('sinfo') ? false : 'no Slurm here' }, async () => {
    const dir = await tempDir();
    const sinfoAnswers = await new Promise<boolean>((resolve) => execFile('sinfo', ['-h'], { timeout: 10_000 }, (error) => resolve(!error)));
    const { stdout } = await doctor(['--json'], { JLAB_MCP_RUN_MODE: 'slurm', JLAB_MCP_NOTEBOOK_DIR: dir });
    const slurm = byName(JSON.parse(stdout) as Report, 'slurm');
    if (sinfoAnswers) assert.match(slurm.detail, /sbatch, squeue, scancel, sinfo found; Slurm answers \(partitions: /);
    else assert.equal(slurm.status, 'problem', 'a Slurm that does not answer is a problem in slurm mode');
  });

  it('broken settings: each problem named with its fix, exit code 1, the text form too', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const emptyBin = path.join(dir, 'bin');
    await mkdir(emptyBin);
    const state = path.join(dir, 'state');
    await mkdir(state, { mode: 0o755 });
    await chmod(state, 0o755);
    const env = {
      JLAB_MCP_RUN_MODE: 'local',
      JLAB_MCP_NOTEBOOK_DIR: path.join(file, 'notebooks'),
      JLAB_MCP_STATE_DIR: state,
      JLAB_MCP_SETUP: 'off',
      PATH: emptyBin,
    };
    const { code, stdout } = await doctor(['--json'], env);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as Report;
    assert.equal(report.ok, false);
    const jupyter = byName(report, 'jupyter');
    assert.equal(jupyter.status, 'problem');
    assert.match(jupyter.detail, /no Jupyter server on PATH; JLAB_MCP_SETUP=off installs nothing/);
    assert.match(jupyter.fix!, /pip install jupyter_server ipykernel/);
    const notebooks = byName(report, 'notebook directory');
    assert.equal(notebooks.status, 'problem');
    assert.match(notebooks.detail, /notebooks cannot be made: .*a-file is a file, not a directory/);
    const stateCheck = byName(report, 'state directory');
    assert.equal(stateCheck.status, 'problem');
    assert.equal(stateCheck.fix, `chmod 700 ${state}`);

    const text = await doctor([], env);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /PROBLEM +jupyter +no Jupyter server/);
    assert.match(text.stdout, /fix: chmod 700 /);
    assert.match(text.stdout, /3 problem\(s\) found\./);
  });

  it('an unwritable notebook directory that exists, and a bad setting', async () => {
    const dir = await tempDir();
    const readOnly = path.join(dir, 'ro');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    // Root writes anywhere a mode forbids: a read-only mount is what stops it (/sys is one in every container here).
    const unwritable = process.getuid?.() === 0 ? '/sys/kernel' : readOnly;
    const { code, stdout } = await doctor(['--json'], {
      JLAB_MCP_RUN_MODE: 'local',
      JLAB_MCP_NOTEBOOK_DIR: unwritable,
      JLAB_MCP_STATE_DIR: path.join(dir, 'state'),
    });
    assert.equal(code, 1);
    const notebooks = byName(JSON.parse(stdout) as Report, 'notebook directory');
    assert.match(notebooks.detail, new RegExp(`^${unwritable} is not writable \\((EACCES|EPERM|EROFS)\\)`));
    assert.match(notebooks.fix!, /set JLAB_MCP_NOTEBOOK_DIR to a directory you can write/);

    const bad = await doctor(['--json'], { JLAB_MCP_EXEC_TIMEOUT: 'soon' });
    assert.equal(bad.code, 1);
    const settings = byName(JSON.parse(bad.stdout) as Report, 'settings');
    assert.equal(settings.status, 'problem');
    assert.match(settings.detail, /JLAB_MCP_EXEC_TIMEOUT/);
  });

  it('a checked program that ignores SIGTERM is still stopped at its deadline (doctor never hangs)', async () => {
    // The ignored SIGTERM is inherited by sleep through exec, as by a stuck `jupyter --version`.
    const ran = await withDeadline(run('/bin/sh', ['-c', "trap '' TERM; sleep 30; echo late"], 500), 15_000, 'run() past its deadline');
    assert.equal(ran.ok, false);
    assert.match(ran.why!, /no answer within 0.5 s/);
  });
});
