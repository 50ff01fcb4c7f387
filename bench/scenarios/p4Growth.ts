import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { median, ratio } from '../lib/stats.js';

/** Median of the samples for cells `from`..`to` (1-based, inclusive). */
function windowMedian(samples: number[], from: number, to: number): number {
  return median(samples.slice(from - 1, to));
}

/**
 * P4: does a cell get slower as the notebook grows? `execute_code("1+1")` N times in one
 * session; the median of cells N-10..N over the median of cells 5..15.
 */
export async function p4Growth({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const n = options.p4Cells;
  const samples: number[] = [];
  const server = await McpServerUnderTest.spawn(cleanups, 'p4');
  try {
    await server.ready();
    const { sessionId } = await server.startSession('bench p4');
    for (let i = 1; i <= n; i++) {
      samples.push(await server.timedExecute(sessionId));
      if (i % 200 === 0) progress(`P4 cell ${i}/${n}: last ${samples.at(-1)!.toFixed(1)} ms`);
    }
  } finally {
    await server.close();
  }
  const early = windowMedian(samples, 5, 15);
  const late = windowMedian(samples, n - 10, n);
  const checkpoints = Object.fromEntries([50, 100, 250, 500, 750, 1000].filter((c) => c <= n && c >= 15).map((c) => [c, windowMedian(samples, c - 10, c)]));
  return {
    figures: [
      {
        id: 'P4 growth',
        what: `per-cell execute_code at cell ${n} (median ${n - 10}–${n}) ÷ at cell 10 (median 5–15)`,
        ours: late,
        baseline: early,
        unit: 'ms',
        ratio: ratio(late, early),
        goal: { on: 'ratio', max: 1.5 },
      },
    ],
    raw: { cells: n, samplesMs: samples, windowMediansMs: checkpoints },
    notes: [],
  };
}
