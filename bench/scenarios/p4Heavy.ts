import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BenchContext } from '../lib/context.js';
import type { Figure, ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest, ToolCallError } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { median, ratio } from '../lib/stats.js';
import { FIGURE_CELL } from './p11Images.js';

/**
 * P4 heavy: does a cell cost more in a notebook full of figures? In one session: `1+1` ×
 * n in the empty notebook (after a short warm-up), then figure cells (each a new cell holding a
 * ~0.75 MB PNG), then `1+1` × n again; the second median ÷ the first. With `p4HeavyLargeFigures`
 * the same session goes on to that many figures (~200 MB) and is measured once more.
 */
export async function p4Heavy({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const n = options.p4HeavyCells;
  const empty: number[] = [];
  const heavy: number[] = [];
  const large: number[] = [];
  const figureMs: number[] = [];
  const sizes: Record<number, number> = {};
  const server = await McpServerUnderTest.spawn(cleanups, 'p4heavy');
  try {
    await server.ready();
    const { sessionId, notebookPath } = await server.startSession('bench p4 heavy');
    const notebookFile = path.resolve(server.notebookDir, notebookPath);
    const plainCells = async (samples: number[]) => {
      for (let i = 0; i < n; i++) samples.push(await server.timedExecute(sessionId));
    };
    const figuresUntil = async (count: number) => {
      while (figureMs.length < count) {
        figureMs.push(await figureCell(server, sessionId));
        if (figureMs.length % 20 === 0) progress(`P4 heavy figure ${figureMs.length}/${count}: last ${figureMs.at(-1)!.toFixed(0)} ms`);
      }
      sizes[count] = (await stat(notebookFile)).size;
    };
    for (let i = 0; i < 3; i++) await server.timedExecute(sessionId);
    await plainCells(empty);
    await figuresUntil(options.p4HeavyFigures);
    await plainCells(heavy);
    if (options.p4HeavyLargeFigures > options.p4HeavyFigures) {
      await figuresUntil(options.p4HeavyLargeFigures);
      await plainCells(large);
    }
  } finally {
    await server.close();
  }
  const emptyMedian = median(empty);
  const measured = (count: number, samples: number[]): Omit<Figure, 'id'> => {
    const ours = median(samples);
    return {
      what: `execute_code("1+1") after ${count} figure cells (a ${megabytes(sizes[count])} notebook), median of ${n} ÷ the same in the empty notebook`,
      ours,
      baseline: emptyMedian,
      unit: 'ms',
      ratio: ratio(ours, emptyMedian),
    };
  };
  const figures: Figure[] = [{ id: 'P4 heavy', ...measured(options.p4HeavyFigures, heavy), goal: { on: 'ratio', max: 1.2 } }];
  if (large.length) figures.push({ id: 'P4 heavy 200 MB', ...measured(options.p4HeavyLargeFigures, large) });
  return {
    figures,
    raw: { cells: n, emptyMs: empty, heavyMs: heavy, largeMs: large, figureCellMs: figureMs, notebookBytes: sizes },
    notes: [
      `P4 heavy: a figure cell took ${median(figureMs).toFixed(0)} ms (median of ${figureMs.length}); the notebook grew to ${Object.values(sizes).map(megabytes).join(', then ')}.`,
    ],
  };
}

/** A new figure cell (execute_code); its wall ms. */
async function figureCell(server: McpServerUnderTest, sessionId: string): Promise<number> {
  const t0 = performance.now();
  const result = await server.call('execute_code', { session_id: sessionId, code: FIGURE_CELL, timeout: 115 }, 120_000);
  const ms = performance.now() - t0;
  if (!result.content.some((block) => block.type === 'image') || !/ · ok · /.test(result.content.at(-1)?.text ?? '')) {
    throw new ToolCallError('a figure cell answered without an image');
  }
  return ms;
}

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '? MB' : `${(bytes / 1e6).toFixed(0)} MB`;
}
