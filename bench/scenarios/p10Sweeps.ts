import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from '../lib/command.js';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { ratio } from '../lib/stats.js';

const JUPYTER_EXECUTE = '/usr/bin/jupyter-execute';
const MAX_CONCURRENT = 2;

/** A one-cell notebook made for papermill: the defaults cell and one cell of work (~0.2 s of CPU). */
function sweepNotebook(): string {
  const code = (source: string, tags?: string[]) => ({ cell_type: 'code', metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: [code('seed = 0', ['parameters']), code('total = sum(i * seed for i in range(3_000_000))\nprint(total)')],
  });
}

/**
 * P10 local: `start_sweep` of N runs of a one-cell notebook with max_concurrent=2 (one fresh
 * kernel per run, on our Jupyter server already up), from the call to every run ended, vs the
 * same notebook run N times in a row by `jupyter-execute` (nbclient: its own process and kernel
 * each time), in the same run. Goal ≤ 0.6×: two at a time should nearly halve the wall time.
 */
export async function p10Sweeps({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const runs = options.p10Runs;
  const server = await McpServerUnderTest.spawn(cleanups, 'p10');
  try {
    await server.ready();
    const file = path.join(server.notebookDir, 'sweep_bench.ipynb');
    await writeFile(file, sweepNotebook());
    progress(`P10 sweep of ${runs} runs, ${MAX_CONCURRENT} at once`);
    const t0 = performance.now();
    const result = await server.call(
      'start_sweep',
      {
        notebook_path: 'sweep_bench.ipynb',
        experiment_name: 'p10',
        parameters: { seed: Array.from({ length: runs }, (_, i) => i) },
        max_concurrent: MAX_CONCURRENT,
        timeout: 600,
      },
      660_000,
    );
    const oursMs = performance.now() - t0;
    const counts = result.structuredContent?.counts as Record<string, number> | undefined;
    const errors = counts?.completed === runs ? [] : [`P10: not every run completed: ${JSON.stringify(counts)}`];
    progress(`P10 baseline: ${runs} × jupyter-execute in a row`);
    // Our kernels get this from LocalBackend; without it every kernel start prints a debugger warning.
    const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
    const b0 = performance.now();
    for (let i = 0; i < runs; i++) await runCommand(cleanups, [JUPYTER_EXECUTE, file], { timeoutMs: 120_000, cwd: server.notebookDir, env });
    const baselineMs = performance.now() - b0;
    return {
      figures: [
        {
          id: 'P10 local',
          what: `start_sweep of ${runs} one-cell runs, max_concurrent=${MAX_CONCURRENT}, to all ended (baseline: ${runs} jupyter-execute in a row)`,
          ours: oursMs,
          baseline: baselineMs,
          unit: 'ms',
          ratio: ratio(oursMs, baselineMs),
          goal: { on: 'ratio', max: 0.6 },
        },
      ],
      raw: { oursMs, baselineMs, runs, counts },
      notes: [
        `P10: our side has its Jupyter server up and starts a fresh kernel per run; jupyter-execute starts a Python process and a kernel per run. The sweep's end is seen by polling (every 2 s), which the figure includes.`,
      ],
      errors,
    };
  } finally {
    await server.close();
  }
}
