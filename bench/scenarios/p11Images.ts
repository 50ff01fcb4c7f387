import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NotebookDocument } from '../../src/notebook/document.js';
import { runCommand } from '../lib/command.js';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest, REPO, textOf, ToolCallError } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { median, percentile, ratio } from '../lib/stats.js';

const BASELINE = path.join(REPO, 'bench', 'baseline_zmq.py');

/**
 * A matplotlib figure whose PNG is ~0.75 MB (noise does not compress): the figure of issue 17.
 * The dpi is explicit so the size does not depend on the inline backend's defaults.
 */
export const FIGURE_CELL = 'import matplotlib.pyplot as plt, numpy as np\nplt.figure(dpi=140)\nplt.imshow(np.random.rand(800, 800))\nplt.show()';

/**
 * P11: an image cell through jlab-mcp (the kernel renders it, jlab-mcp records the original and
 * makes the agent's copy: scaled to 1024 px, re-encoded under 256 KB) vs the same cell straight
 * to an ipykernel over ZMQ (baseline_zmq.py, until reply and idle), rounds alternated as in P1.
 * Ours re-runs one figure cell (run_cell), so the notebook holds one figure throughout: the cost
 * of a notebook that grows with every figure is P4's to measure, not this figure's.
 * Then P6's shape with and without figures: S−1 sessions run `1+1` while one session draws
 * figures back to back; their p95 ÷ the same sessions' p95 with the figure session idle. And,
 * to tell jlab-mcp's share from the drawing's, the same while a kernel outside jlab-mcp
 * (baseline_zmq.py --until-signal) draws that figure back to back on the same machine.
 */
export async function p11Images({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const perRound = Math.ceil(options.p11N / options.p11Rounds);
  const ours: number[] = [];
  const zmq: number[] = [];
  const quiet: number[] = [];
  const busy: number[] = [];
  const rawBusy: number[] = [];
  const errors: string[] = [];
  let figures = 0;
  let rawFigures = 0;
  let originalBytes = 0;
  let agentBytes = 0;
  const server = await McpServerUnderTest.spawn(cleanups, 'p11');
  try {
    await server.ready();
    const { sessionId, notebookPath } = await server.startSession('bench p11');
    await imageCell(server, sessionId, 'execute_code');
    for (let round = 1; round <= options.p11Rounds; round++) {
      progress(`P11 round ${round}/${options.p11Rounds}: ZMQ baseline, ${perRound} image cells`);
      const run = await runCommand(
        cleanups,
        ['/usr/bin/python3', BASELINE, '--n', String(perRound), '--warmup', String(options.p11Warmup), '--code', FIGURE_CELL],
        { timeoutMs: 300_000 },
      );
      zmq.push(...(JSON.parse(run.stdout) as { samples_ms: number[] }).samples_ms);
      progress(`P11 round ${round}/${options.p11Rounds}: MCP run_cell, ${perRound} image cells`);
      for (let i = 0; i < options.p11Warmup; i++) await imageCell(server, sessionId);
      for (let i = 0; i < perRound; i++) {
        const cell = await imageCell(server, sessionId);
        ours.push(cell.ms);
        agentBytes = cell.agentBytes;
      }
    }
    originalBytes = await lastPngBytes(path.resolve(server.notebookDir, notebookPath));

    progress(`P11 starting ${options.p11Sessions} sessions for the figures-beside-1+1 run`);
    const others: string[] = [];
    for (let i = 1; i < options.p11Sessions; i++) others.push((await server.startSession(`bench p11 ${i}`)).sessionId);
    const plainCells = async (samples: number[]) =>
      Promise.all(
        others.map(async (id) => {
          for (let i = 0; i < options.p11Cells; i++) {
            try {
              samples.push(await server.timedExecute(id, '1+1', '2', 120_000));
            } catch (error) {
              errors.push(`session ${id} cell ${i}: ${(error as Error).message.split('\n')[0]}`);
            }
          }
        }),
      );
    await Promise.all(others.map(async (id) => server.timedExecute(id)));
    // Alternated, so both share the machine's drift.
    for (let round = 1; round <= options.p11Rounds; round++) {
      progress(`P11 round ${round}/${options.p11Rounds}: ${others.length} sessions × ${options.p11Cells} × 1+1, figure session idle`);
      await plainCells(quiet);
      progress(`P11 round ${round}/${options.p11Rounds}: the same while session ${sessionId} draws figures`);
      let othersDone = false;
      const drawing = (async () => {
        while (!othersDone) {
          await imageCell(server, sessionId);
          figures++;
        }
      })();
      await plainCells(busy).finally(() => {
        othersDone = true;
      });
      await drawing;
      progress(`P11 round ${round}/${options.p11Rounds}: the same while a kernel outside jlab-mcp draws figures`);
      rawFigures += await besideRawFigures(cleanups, () => plainCells(rawBusy));
    }
  } finally {
    await server.close();
  }
  const oursMedian = median(ours);
  const zmqMedian = median(zmq);
  const quietP95 = percentile(quiet, 95);
  const busyP95 = percentile(busy, 95);
  const rawBusyP95 = percentile(rawBusy, 95);
  return {
    figures: [
      {
        id: 'P11 median',
        what: `image cell (~${mb(originalBytes)} PNG) re-run (run_cell), n=${ours.length} (baseline: the same cell, jupyter_client over ZMQ)`,
        ours: oursMedian,
        baseline: zmqMedian,
        unit: 'ms',
        ratio: ratio(oursMedian, zmqMedian),
        goal: { on: 'ratio', max: 1.5 },
      },
      {
        id: 'P11 p95',
        what: 'same, 95th percentile',
        ours: percentile(ours, 95),
        baseline: percentile(zmq, 95),
        unit: 'ms',
        ratio: ratio(percentile(ours, 95), percentile(zmq, 95)),
      },
      {
        id: 'P11 beside figures',
        what: `${options.p11Sessions - 1} sessions × 1+1, p95 while one session draws figures ÷ p95 with it idle`,
        ours: busyP95,
        baseline: quietP95,
        unit: 'ms',
        ratio: ratio(busyP95, quietP95),
        goal: { on: 'ratio', max: 1.3 },
      },
      {
        id: 'P11 beside raw figures',
        what: 'same, while a kernel outside jlab-mcp (jupyter_client over ZMQ) draws them: what the drawing alone costs the others',
        ours: rawBusyP95,
        baseline: quietP95,
        unit: 'ms',
        ratio: ratio(rawBusyP95, quietP95),
      },
    ],
    raw: {
      oursMs: ours,
      zmqMs: zmq,
      quietMs: quiet,
      busyMs: busy,
      rawBusyMs: rawBusy,
      figuresDrawnBeside: figures,
      rawFiguresDrawnBeside: rawFigures,
      originalPngBytes: originalBytes,
      agentImageBytes: agentBytes,
      errors,
    },
    notes: [
      `P11: the figure's PNG is ${originalBytes} bytes in the notebook (kept byte for byte); the agent's copy ${agentBytes} bytes. ${figures} figures were drawn through jlab-mcp while the other sessions ran 1+1, ${rawFigures} outside it.`,
      ...(errors.length ? [`P11 errors (first 5): ${errors.slice(0, 5).join('; ')}`] : []),
    ],
    errors,
  };
}

/** The figure cell, added or (by default) re-run; the wall ms, and the size of the agent's copy (there must be one). */
/**
 * Runs `load` while baseline_zmq.py draws FIGURE_CELL back to back on a kernel of its own, from
 * its warm-up's end to the load's end; returns how many figures it drew meanwhile.
 */
async function besideRawFigures(cleanups: BenchContext['cleanups'], load: () => Promise<unknown>): Promise<number> {
  let drawer: ChildProcess | undefined;
  let ready!: () => void;
  const warmedUp = new Promise<void>((resolve) => (ready = resolve));
  const run = runCommand(cleanups, ['/usr/bin/python3', BASELINE, '--until-signal', '--warmup', '1', '--code', FIGURE_CELL], {
    timeoutMs: 600_000,
    onSpawn: (child) => {
      drawer = child;
      child.stderr?.on('data', (chunk: Buffer | string) => {
        if (String(chunk).includes('ready')) ready();
      });
    },
  });
  await Promise.race([warmedUp, run.then(() => Promise.reject(new Error('baseline_zmq.py --until-signal ended before it was ready')))]);
  try {
    await load();
  } finally {
    drawer?.kill('SIGTERM');
  }
  return (JSON.parse((await run).stdout) as { n: number }).n;
}

async function imageCell(
  server: McpServerUnderTest,
  sessionId: string,
  tool: 'execute_code' | 'run_cell' = 'run_cell',
): Promise<{ ms: number; agentBytes: number }> {
  const args = tool === 'execute_code' ? { code: FIGURE_CELL } : { cell_index: -1 };
  const t0 = performance.now();
  const result = await server.call(tool, { session_id: sessionId, ...args, timeout: 115 }, 120_000);
  const ms = performance.now() - t0;
  const image = result.content.find((block) => block.type === 'image') as { data?: string } | undefined;
  if (!image?.data || !/ · ok · /.test(result.content.at(-1)?.text ?? '')) {
    throw new ToolCallError(`the figure cell answered without an image: ${JSON.stringify(textOf(result).slice(0, 300))}`);
  }
  return { ms, agentBytes: Buffer.from(image.data, 'base64').length };
}

/** The bytes of the last cell's PNG as the notebook keeps it. */
async function lastPngBytes(notebookFile: string): Promise<number> {
  // As jlab-mcp opens it: the last figure may still be in the journal beside the file.
  const notebook = JSON.parse((await NotebookDocument.load(notebookFile)).serialize()) as {
    cells: Array<{ outputs?: Array<{ data?: Record<string, string | string[]> }> }>;
  };
  const png = notebook.cells.at(-1)?.outputs?.find((output) => output.data?.['image/png'])?.data?.['image/png'];
  return png === undefined ? 0 : Buffer.from([png].flat().join(''), 'base64').length;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}
