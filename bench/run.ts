/**
 * The benchmark suite (issue #5): `npm run bench [-- --smoke|--full] [--strict] [--only p1,p3]`.
 * Runs against a real local Jupyter; every figure is a ratio against a baseline measured in
 * the same run. Progress goes to stderr, the table to stdout, JSON (and, for full runs,
 * LATEST.md) to bench/results/ (ignored by git: see RESULTS_DIR).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setLogLevel } from '../src/util/log.js';
import { Cleanups } from './lib/cleanup.js';
import type { BenchContext } from './lib/context.js';
import { verdict, type Figure, type ScenarioResult } from './lib/figures.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { CLI, REPO } from './lib/mcpServer.js';
import { parseOptions } from './lib/options.js';
import { consoleToStderr, progress } from './lib/progress.js';
import { RESULTS_DIR, machineLine, table, writeResults, type BenchReport } from './lib/report.js';
import { p1RoundTrip } from './scenarios/p1RoundTrip.js';
import { p2SessionStart } from './scenarios/p2SessionStart.js';
import { p3Resume } from './scenarios/p3Resume.js';
import { p4Growth } from './scenarios/p4Growth.js';
import { p4Heavy } from './scenarios/p4Heavy.js';
import { p5Memory } from './scenarios/p5Memory.js';
import { p6Concurrency } from './scenarios/p6Concurrency.js';
import { p10Sweeps } from './scenarios/p10Sweeps.js';
import { p10Slurm } from './scenarios/p10Slurm.js';
import { p11Images } from './scenarios/p11Images.js';

const SCENARIOS: Array<[string, (ctx: BenchContext) => Promise<ScenarioResult>]> = [
  ['p1', p1RoundTrip],
  ['p2', p2SessionStart],
  ['p3', p3Resume],
  ['p4', p4Growth],
  ['p4heavy', p4Heavy],
  ['p5', p5Memory],
  ['p6', p6Concurrency],
  ['p10', p10Sweeps],
  ['p11', p11Images],
  ['p10slurm', p10Slurm],
];

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'assets'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  consoleToStderr();
  setLogLevel('warn');
  const options = parseOptions(process.argv.slice(2), process.env);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (scripts/bench.sh does)`);
  const cleanups = new Cleanups();
  // On a signal or the watchdog: undo everything now, let the running scenario fail, run no
  // more; main's own cleanup then catches whatever that scenario registered meanwhile.
  let stopped: { why: string; code: number } | undefined;
  const abort = async (why: string, code: number) => {
    if (stopped) return;
    stopped = { why, code };
    progress(`${why}: cleaning up`);
    setTimeout(() => {
      progress('cleanup did not finish in 30 s; exiting');
      process.exit(code);
    }, 30_000).unref();
    await cleanups.runAll();
  };
  process.on('SIGINT', () => void abort('SIGINT', 130));
  process.on('SIGTERM', () => void abort('SIGTERM', 143));
  const watchdog = setTimeout(() => void abort(`watchdog: the whole run exceeded ${options.watchdogMs / 60_000} min`, 1), options.watchdogMs);

  const started = new Date();
  const t0 = performance.now();
  const figures: Figure[] = [];
  const notes: string[] = [];
  const errors: BenchReport['errors'] = [];
  const raw: Record<string, unknown> = {};
  let machine: MachineInfo;
  try {
    machine = await machineInfo();
    progress(`${options.mode} run on ${machineLine(machine)}`);
    for (const [name, scenario] of SCENARIOS) {
      if (options.only.length && !options.only.includes(name)) continue;
      if (stopped) break;
      const s0 = performance.now();
      progress(`${name.toUpperCase()} …`);
      try {
        const result = await scenario({ options, cleanups });
        figures.push(...result.figures);
        notes.push(...result.notes);
        raw[name] = { ...result.raw, seconds: (performance.now() - s0) / 1000 };
        for (const message of result.errors ?? []) errors.push({ scenario: name.toUpperCase(), message });
        progress(`${name.toUpperCase()} done in ${((performance.now() - s0) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress(`${name.toUpperCase()} FAILED: ${message}`);
        errors.push({ scenario: name.toUpperCase(), message });
      }
    }
  } finally {
    clearTimeout(watchdog);
    await cleanups.runAll();
  }
  if (stopped) {
    progress(`stopped (${stopped.why}); no results written`);
    return stopped.code;
  }

  const report: BenchReport = {
    mode: options.mode,
    startedAt: started.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    commit: commit(),
    machine,
    figures,
    errors,
    notes,
    raw,
  };
  const loadEnd = (await readFile('/proc/loadavg', 'utf8').catch(() => '')).trim();
  report.raw.loadavgEnd = loadEnd;
  const load = [machine.loadavg, loadEnd].map((l) => Number(l.split(' ')[0]));
  if (load.some((l) => l > machine.nproc / 2)) {
    report.notes.unshift(
      `The machine was busy with other work (1-min load average ${load.join(' at start, ')} at the end, on ${machine.nproc} cores): every figure is noisier than on a quiet machine, and the ratios whose path crosses more processes (P1) suffer most.`,
    );
  }
  const written = await writeResults(RESULTS_DIR, report);
  progress(`wrote ${written.map((f) => path.relative(REPO, f)).join(', ')}`);
  process.stdout.write(
    `\njlab-mcp bench (${options.mode}, ${report.durationS.toFixed(0)} s) on ${machineLine(machine)}\n\n${table(report)}\n\n${report.notes.map((n) => `- ${n}`).join('\n')}\n`,
  );

  if (errors.length) return 1;
  const missed = figures.filter((f) => verdict(f) === 'MISS');
  if (options.mode === 'smoke') return 0;
  if (missed.length) progress(`goals missed: ${missed.map((f) => f.id).join(', ')}${options.strict ? '' : ' (not failing: pass --strict to)'}`);
  return options.strict && missed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
