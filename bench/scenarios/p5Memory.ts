import { stat } from 'node:fs/promises';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { RssSampler, rssMb } from '../lib/rssSampler.js';
import { median } from '../lib/stats.js';
import { sleep } from '../lib/timeout.js';

/**
 * P5: how much the MCP server process grows (VmRSS, sampled every 50 ms) while one cell
 * prints M megabytes in 1 MiB lines. Growth = peak during the call − RSS just before it.
 */
export async function p5Memory({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const mb = options.p5Megabytes;
  const code = `import sys\nfor _ in range(${mb}): sys.stdout.write("x"*(1<<20) + "\\n")`;
  const server = await McpServerUnderTest.spawn(cleanups, 'p5');
  let before: number;
  let sampler: RssSampler;
  let callMs: number;
  let afterMb: number | undefined;
  let notebookMb = 0;
  try {
    await server.ready();
    const { sessionId, notebookPath } = await server.startSession('bench p5');
    for (let i = 0; i < 5; i++) await server.timedExecute(sessionId);
    // RSS at rest: the median of a second of samples.
    const rest = new RssSampler(server.pid).start();
    await sleep(1000);
    rest.stop();
    before = median(rest.samples.map((s) => s.mb));
    progress(`P5 MCP server RSS at rest ${before.toFixed(1)} MB; printing ${mb} MB`);
    sampler = new RssSampler(server.pid).start();
    try {
      callMs = await server.timedExecute(sessionId, code, null, 300_000);
    } finally {
      sampler.stop();
    }
    await sleep(1000);
    afterMb = rssMb(server.pid);
    notebookMb = (await stat(notebookPath)).size / 2 ** 20;
  } finally {
    await server.close();
  }
  const growth = sampler.maxMb - before;
  return {
    figures: [
      {
        id: 'P5 memory',
        what: `MCP server RSS growth while a cell prints ${mb} MB (peak − at rest)`,
        ours: growth,
        baseline: null,
        unit: 'MB',
        ratio: null,
        goal: { on: 'ours', max: 100 },
      },
    ],
    raw: { megabytes: mb, restMb: before, peakMb: sampler.maxMb, oneSecondAfterMb: afterMb, callMs, notebookMb, samples: sampler.samples },
    notes: [
      `P5: RSS at rest ${before.toFixed(0)} MB, peak ${sampler.maxMb.toFixed(0)} MB, 1 s after the call ${afterMb?.toFixed(0) ?? '?'} MB; the call took ${(callMs / 1000).toFixed(1)} s and the notebook file is ${notebookMb.toFixed(1)} MB.`,
    ],
  };
}
