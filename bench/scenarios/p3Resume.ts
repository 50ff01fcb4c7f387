import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../lib/command.js';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest, REPO, ToolCallError } from '../lib/mcpServer.js';
import { writeResumeNotebook } from '../lib/notebookFixture.js';
import { progress } from '../lib/progress.js';
import { median, ratio } from '../lib/stats.js';

const JUPYTER_EXECUTE = '/usr/bin/jupyter-execute';
const PHASES = path.join(REPO, 'bench', 'nbclient_phases.py');

interface Phases {
  setup_ms: number;
  cells_ms: number;
  shutdown_ms: number;
}

/**
 * Resumes a notebook of `cells` cells, freshly written into the server's dir, and checks every
 * cell ran cleanly; shuts the session down (untimed). Returns wall ms from `since` (default:
 * the call) to the answer.
 */
async function timedResume(server: McpServerUnderTest, cells: number, name: string, since?: number): Promise<number> {
  const file = `resume_${cells}.ipynb`;
  await writeResumeNotebook(path.join(server.notebookDir, file), cells);
  const start = since ?? performance.now();
  // timeout: the whole replay in one answer (by default a long one goes on in the background).
  const resumed = await server.call('start_session_resume_notebook', { experiment_name: name, notebook_path: file, timeout: 3600 }, 600_000);
  const ms = performance.now() - start;
  const summary = resumed.structuredContent ?? {};
  if (summary.cells_run !== cells || summary.restored_with_errors !== null) {
    throw new ToolCallError(`resume ran ${String(summary.cells_run)} cells, errors ${JSON.stringify(summary.restored_with_errors)}`);
  }
  await server.shutdownSession(String(summary.session_id));
  return ms;
}

/**
 * P3: `start_session_resume_notebook` on a generated N-cell notebook (kernel start included,
 * Jupyter server already up) vs Debian's `jupyter-execute` (nbclient 0.7) on a copy of the
 * same file, which also pays for its Python process and its kernel start and shutdown.
 * Two more lines make the comparison fair both ways:
 *  - replay only: ours minus our resume of a one-cell notebook (scaled to N cells), vs nbclient's
 *    own cell loop timed inside the same calls jupyter-execute makes (bench/nbclient_phases.py).
 *    One cell, not none: a session's fixed work in the kernel before its first cell (the silent
 *    setup, the environment record of the provenance) waits in front of a first cell, and an
 *    empty resume answers without waiting for it;
 *  - cold: spawning a fresh jlab-mcp (node + Jupyter server + kernel) and resuming, vs
 *    jupyter-execute, both from nothing.
 * Each round takes every measurement once, in turn; full runs start with an unmeasured round.
 */
export async function p3Resume({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const cells = options.p3Cells;
  const ours: number[] = [];
  const oursEmpty: number[] = [];
  const oursOne: number[] = [];
  const oursCold: number[] = [];
  const jexec: number[] = [];
  const phases: Array<Phases & { wallMs: number }> = [];
  let largeMs = Number.NaN;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'jlab-bench-p3-'));
  const removeScratch = cleanups.add('P3 scratch dir', () => rm(scratch, { recursive: true, force: true }));
  const server = await McpServerUnderTest.spawn(cleanups, 'p3');
  try {
    await server.ready();
    const theirFile = path.join(scratch, 'resume_bench.ipynb');
    await writeResumeNotebook(theirFile, cells);
    // Our kernels get this from LocalBackend; without it every kernel start prints a debugger warning.
    const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
    for (let run = 1 - options.p3Warmup; run <= options.p3Runs; run++) {
      const warm = run <= 0;
      progress(
        `P3 ${warm ? 'warm-up round' : `round ${run}/${options.p3Runs}`}: resume, resume one cell, resume empty, jupyter-execute, nbclient phases, cold resume`,
      );
      const resumeMs = await timedResume(server, cells, `bench p3 ${run}`);
      const oneMs = await timedResume(server, 1, `bench p3 one ${run}`);
      const emptyMs = await timedResume(server, 0, `bench p3 empty ${run}`);

      const full = await runCommand(cleanups, [JUPYTER_EXECUTE, theirFile], { timeoutMs: 300_000, cwd: scratch, env });
      const split = await runCommand(cleanups, ['/usr/bin/python3', PHASES, theirFile], { timeoutMs: 300_000, cwd: scratch, env });

      const c0 = performance.now();
      const cold = await McpServerUnderTest.spawn(cleanups, 'p3-cold');
      let coldMs: number;
      try {
        coldMs = await timedResume(cold, cells, `bench p3 cold ${run}`, c0);
      } finally {
        await cold.close();
      }
      if (!warm) {
        ours.push(resumeMs);
        oursEmpty.push(emptyMs);
        oursOne.push(oneMs);
        jexec.push(full.wallMs);
        phases.push({ ...(JSON.parse(split.stdout) as Phases), wallMs: split.wallMs });
        oursCold.push(coldMs);
      }
    }
    // Flat per cell: one replay of a large notebook, per cell, against the 50-cell rounds above.
    progress(`P3 one resume of ${options.p3LargeCells} cells`);
    largeMs = ((await timedResume(server, options.p3LargeCells, 'bench p3 large')) - median(oursOne)) * (options.p3LargeCells / (options.p3LargeCells - 1));
  } finally {
    await server.close();
    await removeScratch();
  }
  const oursMedian = median(ours);
  const jexecMedian = median(jexec);
  // Paired by round: a resume and the one-cell resume measured right after it, scaled from N − 1 cells to N.
  const oursReplay = median(ours.map((ms, i) => ((ms - oursOne[i]!) * cells) / (cells - 1)));
  const oursReplayFromEmpty = median(ours.map((ms, i) => ms - oursEmpty[i]!));
  const nbReplay = median(phases.map((p) => p.cells_ms));
  const coldMedian = median(oursCold);
  const setup = median(phases.map((p) => p.setup_ms));
  const shutdown = median(phases.map((p) => p.shutdown_ms));
  const processRest = median(phases.map((p) => p.wallMs - p.setup_ms - p.cells_ms - p.shutdown_ms));
  return {
    figures: [
      {
        id: 'P3 resume',
        what: `resume a ${cells}-cell notebook, server up, kernel start incl., median of ${ours.length} (baseline: jupyter-execute, process + kernel start incl.)`,
        ours: oursMedian,
        baseline: jexecMedian,
        unit: 'ms',
        ratio: ratio(oursMedian, jexecMedian),
        goal: { on: 'ratio', max: 1.0 },
      },
      {
        id: 'P3 replay',
        what: `the ${cells} cells only: ours − resume of a one-cell notebook, × ${cells}/${cells - 1}, paired by round (baseline: nbclient's cell loop, timed inside)`,
        ours: oursReplay,
        baseline: nbReplay,
        unit: 'ms',
        ratio: ratio(oursReplay, nbReplay),
        goal: { on: 'ratio', max: 1.2 },
      },
      {
        id: 'P3 per cell',
        what: `replay per cell at ${options.p3LargeCells} cells (one resume, minus a one-cell resume) ÷ per cell at ${cells} (P3 replay)`,
        ours: largeMs / options.p3LargeCells,
        baseline: oursReplay / cells,
        unit: 'ms',
        ratio: ratio(largeMs / options.p3LargeCells, oursReplay / cells),
        goal: { on: 'ratio', max: 1.2 },
      },
      {
        id: 'P3 cold',
        what: `from nothing: spawn jlab-mcp (node + Jupyter server) + resume (baseline: jupyter-execute)`,
        ours: coldMedian,
        baseline: jexecMedian,
        unit: 'ms',
        ratio: ratio(coldMedian, jexecMedian),
      },
    ],
    raw: {
      cells,
      largeCells: options.p3LargeCells,
      largeMs,
      oursMs: ours,
      oursEmptyResumeMs: oursEmpty,
      oursOneCellResumeMs: oursOne,
      oursColdMs: oursCold,
      jupyterExecuteMs: jexec,
      nbclientPhases: phases,
    },
    notes: [
      `P3: not like for like — jupyter-execute's wall time includes its Python process and imports (~${processRest.toFixed(0)} ms), kernel start + kernel_info (${setup.toFixed(0)} ms) and kernel shutdown (${shutdown.toFixed(0)} ms), besides the cells (${nbReplay.toFixed(0)} ms); "P3 resume" has our Jupyter server already up but includes our kernel start (resuming an empty notebook: ${median(oursEmpty).toFixed(0)} ms; one cell: ${median(oursOne).toFixed(0)} ms, which waits for the session's setup and environment record in the kernel; the ${cells} cells minus an empty resume: ${oursReplayFromEmpty.toFixed(0)} ms) and notebook saves (batched: at most one every few seconds during a replay). "P3 replay" compares the cells alone, "P3 cold" both sides from nothing.`,
    ],
  };
}
