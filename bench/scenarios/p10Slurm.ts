import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/backends/slurm/commands.js';
import { SlurmSweepExecutor } from '../../src/sweeps/slurm/index.js';
import type { SweepLaunch } from '../../src/sweeps/types.js';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { progress } from '../lib/progress.js';
import { median, ratio } from '../lib/stats.js';
import { RECORD_HELPER_PYTHON } from '../../src/sweeps/recordHelper.js';

const MAX_CONCURRENT = 2;
const POLL_MS = 500;
const DEADLINE_MS = 600_000;
const TERMINAL = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|BOOT_FAIL|OUT_OF_MEMORY|PREEMPTED|DEADLINE)/;

const slurm = (cmd: string, args: string[], cwd: string) => runCommand(cmd, args, { timeoutMs: 30_000, cwd });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `n` one-cell run notebooks (an injected-parameters cell, then one cell that records a value) in `dir`. */
async function runNotebooks(dir: string, n: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const file = path.join(dir, `run-${String(i).padStart(4, '0')}.ipynb`);
      const code = (source: string, id: string, tags: string[] = []) => ({
        cell_type: 'code',
        id,
        metadata: { tags },
        source,
        outputs: [],
        execution_count: null,
      });
      const cells = [code(`x = ${i}`, 'params', ['injected-parameters']), code('y = x * x\nprint(y)', 'work')];
      await writeFile(
        file,
        JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } }, cells }),
      );
      return file;
    }),
  );
}

/**
 * How a person runs one notebook and keeps its outputs: `jupyter execute --inplace` where
 * nbclient has it (0.8 and later), else `nbconvert --execute --inplace` (the same nbclient, and
 * what nbclient 0.7's `jupyter execute`, which saves nothing, leaves people to use).
 */
async function executeCommand(dir: string): Promise<string> {
  const help = await runCommand('jupyter-execute', ['--help'], { timeoutMs: 30_000, cwd: dir });
  return help.stdout.includes('--inplace') ? 'jupyter-execute --inplace' : '/usr/bin/python3 -m nbconvert --to notebook --execute --inplace';
}

/** The same work by hand: `sbatch --array=0-(n-1)%K` whose tasks execute their notebook in place; ms from sbatch to all ended (squeue, same poll interval). */
async function byHand(dir: string, n: number, command: string): Promise<number> {
  const files = await runNotebooks(dir, n);
  const script = path.join(dir, 'by-hand.sh');
  await writeFile(
    script,
    [
      '#!/bin/bash',
      '#SBATCH --partition=debug',
      '#SBATCH --cpus-per-task=1',
      '#SBATCH --time=10',
      'export PYDEVD_DISABLE_FILE_VALIDATION=1',
      `exec ${command} "$(printf '${dir}/run-%04d.ipynb' "$SLURM_ARRAY_TASK_ID")"`,
      '',
    ].join('\n'),
  );
  const t0 = performance.now();
  const submitted = await slurm('sbatch', ['--parsable', `--array=0-${files.length - 1}%${MAX_CONCURRENT}`, `--output=${dir}/by-hand-%a.out`, script], dir);
  const jobId = submitted.stdout.trim().split(';')[0]!;
  if (submitted.code !== 0 || !/^\d+$/.test(jobId)) throw new Error(`sbatch (by hand) failed: ${submitted.stderr}`);
  try {
    while (performance.now() - t0 < DEADLINE_MS) {
      const q = await slurm('squeue', ['--noheader', '--array', '--states=all', `--jobs=${jobId}`, '--format=%T'], dir);
      const states = q.stdout.split('\n').filter(Boolean);
      if (states.length >= n && states.every((s) => TERMINAL.test(s))) {
        const elapsed = performance.now() - t0;
        // A baseline whose runs failed would flatter us: it must have done the work.
        if (!states.every((s) => s.startsWith('COMPLETED')))
          throw new Error(`the by-hand array ${jobId} did not complete: ${states.join(', ')} (see ${dir}/by-hand-*.out)`);
        return elapsed;
      }
      await sleep(POLL_MS);
    }
    throw new Error(`the by-hand array ${jobId} did not end within ${DEADLINE_MS / 1000} s`);
  } finally {
    await slurm('scancel', [jobId], dir);
  }
}

/** Through the executor: submit, then poll until every run ended; ms. Errors when a run did not complete. */
async function ours(dir: string, n: number, errors: string[]): Promise<number> {
  const files = await runNotebooks(dir, n);
  const executor = new SlurmSweepExecutor({
    settingsFor: () => ({ partition: 'debug', cpus: 1, time: '10', jupyterCommand: ['jupyter-server'] }),
    recordHelperPython: RECORD_HELPER_PYTHON,
  });
  const launch: SweepLaunch = {
    sweepId: 'bench-p10',
    experimentDir: dir,
    runs: files.map((notebookPath, index) => ({ index, parameters: { x: index }, notebookPath })),
    maxConcurrent: MAX_CONCURRENT,
    attempt: 1,
  };
  const t0 = performance.now();
  const attempt = await executor.submit(launch);
  try {
    while (performance.now() - t0 < DEADLINE_MS) {
      const reports = await executor.poll(launch, attempt);
      if (reports.every((r) => r.state !== 'pending' && r.state !== 'running')) {
        const elapsed = performance.now() - t0;
        for (const r of reports) if (r.state !== 'completed') errors.push(`run ${r.index} ${r.state}: ${r.error ?? ''}`);
        return elapsed;
      }
      await sleep(POLL_MS);
    }
    throw new Error(`the sweep's array ${attempt.jobId} did not end within ${DEADLINE_MS / 1000} s`);
  } finally {
    await executor.cancel(launch, attempt).catch(() => {});
  }
}

/**
 * P10 on SLURM: n one-cell runs at most 2 at a time, seconds from submit to every run ended,
 * through the SLURM sweep executor vs the same work by hand (`sbatch --array` of `jupyter
 * execute`), both timed the same way (a squeue-based poll every 500 ms), alternated. Skipped
 * without a cluster.
 */
export async function p10Slurm({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const sinfo = await slurm('sinfo', ['-h', '-o', '%T'], tmpdir());
  if (sinfo.code !== 0 || sinfo.stdout.trim() === '') {
    return {
      figures: [],
      raw: { skipped: sinfo.failure ?? sinfo.stderr.trim() },
      notes: ['P10 slurm skipped: no Slurm cluster answers (scripts/slurm-cluster.sh up).'],
    };
  }
  const n = options.mode === 'smoke' ? 4 : 16;
  const pairs = options.mode === 'smoke' ? 1 : 2;
  const root = await mkdtemp(path.join(tmpdir(), 'jlab-bench-p10-'));
  const release = cleanups.add('P10 slurm temp dir', () => rm(root, { recursive: true, force: true }));
  const command = await executeCommand(root);
  const errors: string[] = [];
  const oursMs: number[] = [];
  const baselineMs: number[] = [];
  try {
    for (let pair = 0; pair < pairs; pair++) {
      progress(`P10 slurm pair ${pair + 1}/${pairs}: ${n} runs by hand (sbatch --array of ${command})`);
      baselineMs.push(await byHand(path.join(root, `hand-${pair}`), n, command));
      progress(`P10 slurm pair ${pair + 1}/${pairs}: ${n} runs through the sweep executor`);
      oursMs.push(await ours(path.join(root, `ours-${pair}`, 'experiment'), n, errors));
    }
  } finally {
    await release();
  }
  const o = median(oursMs);
  const b = median(baselineMs);
  return {
    figures: [
      {
        id: 'P10 slurm',
        what: `${n} one-cell runs, %${MAX_CONCURRENT}: sbatch to all ended, the sweep executor vs the same sbatch --array by hand (nbclient per task)`,
        ours: o,
        baseline: b,
        unit: 'ms',
        ratio: ratio(o, b),
        goal: { on: 'ratio', max: 1.1 },
      },
    ],
    raw: { n, maxConcurrent: MAX_CONCURRENT, oursMs, baselineMs },
    notes: [
      `P10 slurm: by hand is ${command} per task. Ours ${oursMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s vs by hand ${baselineMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (pairs, by hand first).`,
    ],
    errors,
  };
}
