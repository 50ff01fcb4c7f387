import path from 'node:path';
import { bareExecuteRoundTrips, startBareServer } from '../lib/bareKernel.js';
import { runCommand } from '../lib/command.js';
import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/figures.js';
import { McpServerUnderTest, REPO } from '../lib/mcpServer.js';
import { progress } from '../lib/progress.js';
import { median, percentile, ratio } from '../lib/stats.js';

const BASELINE = path.join(REPO, 'bench', 'baseline_zmq.py');

/** What baseline_zmq.py prints. */
interface BaselineRun {
  samples_ms: number[];
  kernel_cpu_ms_per_round_trip: number | null;
}

/**
 * P1: `execute_code("1+1")` through the MCP server over stdio vs the same round trip straight
 * to an ipykernel over ZMQ (bench/baseline_zmq.py). Rounds alternate baseline / ours so both
 * share the machine's noise; each side gets the same warm-up and the same n. For the notes,
 * the same round trip over the kernel websocket from this process (no MCP, no notebook) and
 * an MCP call that touches no kernel separate the jupyter-server hop from what jlab-mcp adds.
 */
export async function p1RoundTrip({ options, cleanups }: BenchContext): Promise<ScenarioResult> {
  const perRound = Math.ceil(options.p1N / options.p1Rounds);
  const ours: number[] = [];
  const zmq: number[] = [];
  const zmqMemoryHistory: number[] = [];
  /** The baseline kernels' CPU per round trip, one figure per round (null where /proc cannot tell). */
  const kernelCpu = { historyFile: [] as number[], historyInMemory: [] as number[] };
  const websocket: number[] = [];
  const mcpFloor: number[] = [];
  /** One run of baseline_zmq.py: its samples into `samples`, its kernel's CPU per round trip into `cpu` (when /proc told it). */
  const baselineRound = async (flags: string[], samples: number[], cpu: number[]) => {
    const run = await runCommand(cleanups, ['/usr/bin/python3', BASELINE, ...flags, '--n', String(perRound), '--warmup', String(options.p1Warmup)], {
      timeoutMs: 180_000,
    });
    const result = JSON.parse(run.stdout) as BaselineRun;
    samples.push(...result.samples_ms);
    if (result.kernel_cpu_ms_per_round_trip !== null) cpu.push(result.kernel_cpu_ms_per_round_trip);
  };
  const server = await McpServerUnderTest.spawn(cleanups, 'p1');
  try {
    const bare = await startBareServer(cleanups);
    try {
      await server.ready();
      const { sessionId } = await server.startSession('bench p1');
      progress(`P1 MCP floor: list_sessions, ${options.p1N} calls`);
      for (let i = 0; i < options.p1Warmup + options.p1N; i++) {
        const t0 = performance.now();
        await server.call('list_sessions', {}, 30_000);
        if (i >= options.p1Warmup) mcpFloor.push(performance.now() - t0);
      }
      for (let round = 1; round <= options.p1Rounds; round++) {
        progress(`P1 round ${round}/${options.p1Rounds}: ZMQ baseline, ${perRound} round trips`);
        await baselineRound([], zmq, kernelCpu.historyFile);
        progress(`P1 round ${round}/${options.p1Rounds}: ZMQ, kernel history in memory, ${perRound} round trips`);
        await baselineRound(['--memory-history'], zmqMemoryHistory, kernelCpu.historyInMemory);
        progress(`P1 round ${round}/${options.p1Rounds}: MCP execute_code, ${perRound} round trips`);
        for (let i = 0; i < options.p1Warmup; i++) await server.timedExecute(sessionId);
        for (let i = 0; i < perRound; i++) ours.push(await server.timedExecute(sessionId));
        progress(`P1 round ${round}/${options.p1Rounds}: kernel websocket from this process (no MCP), ${perRound} round trips`);
        websocket.push(...(await bareExecuteRoundTrips(bare.settings, perRound, options.p1Warmup)));
      }
    } finally {
      await bare.stop();
    }
  } finally {
    await server.close();
  }
  const oursMedian = median(ours);
  const zmqMedian = median(zmq);
  const oursP95 = percentile(ours, 95);
  const zmqP95 = percentile(zmq, 95);
  return {
    figures: [
      {
        id: 'P1 median',
        what: `execute_code("1+1") round trip, n=${ours.length} (baseline: jupyter_client over ZMQ)`,
        ours: oursMedian,
        baseline: zmqMedian,
        unit: 'ms',
        ratio: ratio(oursMedian, zmqMedian),
        goal: { on: 'ratio', max: 1.5 },
      },
      {
        id: 'P1 p95',
        what: 'same, 95th percentile',
        ours: oursP95,
        baseline: zmqP95,
        unit: 'ms',
        ratio: ratio(oursP95, zmqP95),
        goal: { on: 'ratio', max: 1.5 },
      },
    ],
    raw: {
      oursMs: ours,
      zmqMs: zmq,
      zmqMemoryHistoryMs: zmqMemoryHistory,
      baselineKernelCpuMsPerRoundTrip: kernelCpu,
      websocketMs: websocket,
      mcpListSessionsMs: mcpFloor,
      rounds: options.p1Rounds,
      warmupPerRound: options.p1Warmup,
    },
    notes: [
      `P1: where the time goes (medians): kernel over ZMQ ${zmqMedian.toFixed(2)} ms; over the jupyter-server websocket from a bare @jupyterlab/services client ${median(websocket).toFixed(2)} ms; through jlab-mcp over stdio ${oursMedian.toFixed(2)} ms, of which an MCP call that touches no kernel (list_sessions) takes ${median(mcpFloor).toFixed(2)} ms; the rest is this server's own work per cell (the journal append the reply waits for, output bookkeeping, the MCP SDK's schema checks) and the client's.`,
      `P1 like for like: jlab-mcp's kernels keep IPython's history in memory (as nbclient's do); the baseline kernel, as jupyter_client starts it, writes it to the profile's history.sqlite. A baseline kernel with its history in memory answers in ${median(zmqMemoryHistory).toFixed(2)} ms: ours ÷ that is ${ratio(oursMedian, median(zmqMemoryHistory))?.toFixed(2) ?? '—'}×. The baseline kernel's CPU per round trip (median of rounds): ${cpuText(kernelCpu.historyFile)} with the file, ${cpuText(kernelCpu.historyInMemory)} in memory.`,
    ],
  };
}

function cpuText(perRound: number[]): string {
  return perRound.length ? `${median(perRound).toFixed(2)} ms` : 'unknown';
}
