import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { percentile, ratio } from '../lib/stats.js';

/** Runs `task` over `items` with at most `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

/**
 * P6: S sessions × C cells at once (each session sequential, sessions concurrent) on one
 * server. Errors (isError, failed calls, wrong answers) are counted, not thrown; the p95 is
 * compared with one session's p95 measured alone first on the same server (the other
 * sessions idle).
 */
export async function p6Concurrency({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const { p6Sessions: sessions, p6Cells: cells } = options;
  const alone: number[] = [];
  const together: number[] = [];
  const errors: string[] = [];
  let aloneWallMs = 0;
  let togetherWallMs = 0;
  const server = await McpServerUnderTest.spawn(cleanups, 'p6');
  try {
    await server.ready();
    progress(`P6 starting ${sessions} sessions (4 at a time)`);
    const ids = await inBatches(
      Array.from({ length: sessions }, (_, i) => i),
      4,
      async (i) => (await server.startSession(`bench p6 ${i}`)).sessionId,
    );
    progress(`P6 one session alone: ${cells} cells`);
    for (let i = 0; i < 10; i++) await server.timedExecute(ids[0]!);
    let t0 = performance.now();
    for (let i = 0; i < cells; i++) alone.push(await server.timedExecute(ids[0]!));
    aloneWallMs = performance.now() - t0;

    progress(`P6 ${sessions} sessions × ${cells} cells at once`);
    await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < 3; i++) await server.timedExecute(id);
      }),
    );
    t0 = performance.now();
    await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < cells; i++) {
          try {
            together.push(await server.timedExecute(id, '1+1', '2', 120_000));
          } catch (error) {
            errors.push(`session ${id} cell ${i}: ${(error as Error).message.split('\n')[0]}`);
          }
        }
      }),
    );
    togetherWallMs = performance.now() - t0;
  } finally {
    await server.close();
  }
  const aloneP95 = percentile(alone, 95);
  const togetherP95 = together.length ? percentile(together, 95) : Number.NaN;
  const aloneRate = (cells / aloneWallMs) * 1000;
  const togetherRate = (together.length / togetherWallMs) * 1000;
  return {
    figures: [
      {
        id: 'P6 errors',
        what: `${sessions} sessions × ${cells} cells at once: failed calls`,
        ours: errors.length,
        baseline: null,
        unit: 'errors',
        ratio: null,
        goal: { on: 'ours', max: 0 },
      },
      {
        id: 'P6 p95',
        what: `same, p95 of execute_code ÷ one session alone`,
        ours: togetherP95,
        baseline: aloneP95,
        unit: 'ms',
        ratio: ratio(togetherP95, aloneP95),
      },
      {
        id: 'P6 throughput',
        what: `same, cells per second ÷ one session alone`,
        ours: togetherRate,
        baseline: aloneRate,
        unit: 'cells/s',
        ratio: ratio(togetherRate, aloneRate),
      },
    ],
    raw: { sessions, cells, aloneMs: alone, togetherMs: together, aloneWallMs, togetherWallMs, errors },
    notes: errors.length ? [`P6 errors (first 5): ${errors.slice(0, 5).join('; ')}`] : [],
    errors,
  };
}
