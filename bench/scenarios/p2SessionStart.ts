import { bareKernelStart, startBareServer, type BareStart } from '../lib/bareKernel.js';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { median, ratio } from '../lib/stats.js';

/**
 * P2: `start_new_session` with the server already up, until it returns (the kernel has
 * answered kernel_info), vs a bare start on a Jupyter server of the same configuration
 * started in this process: POST /api/kernels + websocket + first reply, nothing else.
 * Measured in alternation (ABAB) after one unmeasured warm-up pair; every kernel is shut
 * down after its measurement, outside the timing.
 */
export async function p2SessionStart({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const ours: number[] = [];
  const bare: BareStart[] = [];
  const server = await McpServerUnderTest.spawn(cleanups, 'p2');
  try {
    const bareServer = await startBareServer(cleanups);
    try {
      await server.ready();
      for (let pair = 0; pair <= options.p2Pairs; pair++) {
        const warm = pair === 0;
        progress(`P2 ${warm ? 'warm-up pair' : `pair ${pair}/${options.p2Pairs}`}`);
        const t0 = performance.now();
        const { sessionId } = await server.startSession(`bench p2 ${pair}`);
        const oursMs = performance.now() - t0;
        await server.shutdownSession(sessionId);
        const b = await bareKernelStart(bareServer.settings);
        if (!warm) {
          ours.push(oursMs);
          bare.push(b);
        }
      }
    } finally {
      await bareServer.stop();
    }
  } finally {
    await server.close();
  }
  const oursMedian = median(ours);
  const bareMedian = median(bare.map((b) => b.totalMs));
  const restMedian = median(bare.map((b) => b.restMs));
  const replyMedian = median(bare.map((b) => b.firstReplyMs));
  const pairedDiff = median(ours.map((ms, i) => ms - bare[i]!.totalMs));
  return {
    figures: [
      {
        id: 'P2 start',
        what: `start_new_session, server up, median of ${ours.length} (baseline: bare REST start + first reply)`,
        ours: oursMedian,
        baseline: bareMedian,
        unit: 'ms',
        ratio: ratio(oursMedian, bareMedian),
        goal: { on: 'ratio', max: 1.1 },
      },
    ],
    raw: { oursMs: ours, bare },
    notes: [
      `P2: the bare start splits into POST /api/kernels ${restMedian.toFixed(0)} ms + websocket and kernel_info reply ${replyMedian.toFixed(0)} ms (medians); per pair, ours − bare has median ${pairedDiff.toFixed(0)} ms (the kernel's own start varies by more than that from one start to the next).`,
    ],
  };
}
