/** Command line and sizes: `--smoke` (or CI=true without `--full`) shrinks every n. */
export interface BenchOptions {
  mode: 'full' | 'smoke';
  /** Exit 1 when a goal is missed (full mode only; smoke never asserts timings). */
  strict: boolean;
  /** Only these scenarios (e.g. `--only p1,p4`); all when empty. */
  only: string[];
  /** P1: measured round trips per side, split into `p1Rounds` alternating rounds. */
  p1N: number;
  p1Rounds: number;
  p1Warmup: number;
  /** P2: measured ABAB pairs (after one unmeasured warm-up pair). */
  p2Pairs: number;
  /** P3: cells in the generated notebook, runs per side. */
  p3Cells: number;
  p3Runs: number;
  /** Cells of the one large resume that shows replay cost per cell stays flat. */
  p3LargeCells: number;
  /** P3: unmeasured warm-up rounds first. */
  p3Warmup: number;
  /** P4: cells in one session; windows [5,15] and [cells-10, cells]. */
  p4Cells: number;
  /** P4-heavy: 1+1 cells per measurement; figure cells before the main measurement, and before the large one (0: none). */
  p4HeavyCells: number;
  p4HeavyFigures: number;
  p4HeavyLargeFigures: number;
  /** P5: megabytes printed by one cell. */
  p5Megabytes: number;
  /** P6: sessions × cells each. */
  p6Sessions: number;
  p6Cells: number;
  /** P10: runs of the sweep (and jupyter-execute runs of the baseline). */
  p10Runs: number;
  /** P11: measured image cells per side, in `p11Rounds` alternating rounds, after `p11Warmup` each. */
  p11N: number;
  p11Rounds: number;
  p11Warmup: number;
  /** P11 beside figures: sessions (one draws figures, the rest run 1+1) × cells of 1+1 each, per round. */
  p11Sessions: number;
  p11Cells: number;
  /** Whole-run watchdog. */
  watchdogMs: number;
}

export const USAGE = `usage: npm run bench -- [--smoke | --full] [--strict] [--only p1,p2,...]
  --smoke   small n everywhere, asserts nothing about timings (default when CI=true)
  --full    full sizes even when CI=true
  --strict  exit 1 when a goal is missed (full mode)
  --only    run only the named scenarios (p1..p6, p4heavy, p10, p11)`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  let smoke = env.CI === 'true';
  let strict = false;
  let only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--smoke') smoke = true;
    else if (arg === '--full') smoke = false;
    else if (arg === '--strict') strict = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value) throw new Error(`--only needs a list\n${USAGE}`);
      only = value
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  if (argv.includes('--smoke') && argv.includes('--full')) throw new Error('--smoke and --full exclude each other');
  const base = { strict: strict && !smoke, only };
  return smoke
    ? {
        ...base,
        mode: 'smoke',
        p1N: 20,
        p1Rounds: 1,
        p1Warmup: 10,
        p2Pairs: 2,
        p3Cells: 10,
        p3LargeCells: 200,
        p3Runs: 1,
        p3Warmup: 0,
        p4Cells: 120,
        p4HeavyCells: 5,
        p4HeavyFigures: 3,
        p4HeavyLargeFigures: 0,
        p5Megabytes: 5,
        p6Sessions: 4,
        p6Cells: 10,
        p10Runs: 4,
        p11N: 4,
        p11Rounds: 1,
        p11Warmup: 1,
        p11Sessions: 4,
        p11Cells: 5,
        watchdogMs: 5 * 60_000,
      }
    : {
        ...base,
        mode: 'full',
        p1N: 200,
        p1Rounds: 2,
        p1Warmup: 10,
        p2Pairs: 10,
        p3Cells: 50,
        p3LargeCells: 20_000,
        p3Runs: 5,
        p3Warmup: 1,
        p4Cells: 1000,
        p4HeavyCells: 15,
        p4HeavyFigures: 40,
        p4HeavyLargeFigures: 200,
        p5Megabytes: 50,
        p6Sessions: 16,
        p6Cells: 100,
        p10Runs: 16,
        p11N: 40,
        p11Rounds: 4,
        p11Warmup: 2,
        p11Sessions: 16,
        p11Cells: 30,
        watchdogMs: 15 * 60_000,
      };
}
