// The hot path, alternated between builds: N × execute_code("1+1") in one session through the
// official SDK 2.x client, for each dist/cli.js given, in turn, `pairs` times — the
// alternating-runs method of docs/benchmarks.md, on a quiet machine. Prints per run the median
// and p90 latency, and the MCP server's and this client's CPU per cell, then the median and the
// server's CPU per cell in each quarter of the run (the notebook grows by one cell per call: a
// cost that grows with its length shows there). Asserts nothing.
//   node --import tsx bench/hotPath.ts [n=800] [pairs=4] [cli.js ...]   (default: this checkout's dist/cli.js)
import { readFileSync } from 'node:fs';
import { Cleanups } from './lib/cleanup.js';
import { CLI, McpServerUnderTest } from './lib/mcpServer.js';
import { median, percentile } from './lib/stats.js';

const n = Number(process.argv[2] ?? 800);
const pairs = Number(process.argv[3] ?? 4);
const clis = process.argv.length > 4 ? process.argv.slice(4) : [CLI];

/** CPU time (user + system) of a process so far, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function run(cli: string, cleanups: Cleanups): Promise<string> {
  const server = await McpServerUnderTest.spawn(cleanups, 'hot-path', cli);
  try {
    const { sessionId } = await server.startSession('hot path');
    for (let i = 0; i < 30; i++) await server.timedExecute(sessionId);
    const serverCpu0 = cpuMs(server.pid);
    const clientCpu0 = process.cpuUsage();
    const samples: number[] = [];
    const quarters: string[] = [];
    const quarterLength = Math.ceil(n / 4);
    let quarter = { start: 0, cpu: serverCpu0 };
    for (let i = 0; i < n; i++) {
      samples.push(await server.timedExecute(sessionId));
      if (samples.length - quarter.start === quarterLength || i === n - 1) {
        const cells = samples.slice(quarter.start);
        const cpu = cpuMs(server.pid);
        quarters.push(`${median(cells).toFixed(2)} ms/${((cpu - quarter.cpu) / cells.length).toFixed(2)}`);
        quarter = { start: samples.length, cpu };
      }
    }
    const clientCpu = process.cpuUsage(clientCpu0);
    const serverPerCell = (cpuMs(server.pid) - serverCpu0) / n;
    const clientPerCell = (clientCpu.user + clientCpu.system) / 1000 / n;
    await server.shutdownSession(sessionId);
    return `median ${median(samples).toFixed(2)} ms, p90 ${percentile(samples, 90).toFixed(2)} ms, server CPU ${serverPerCell.toFixed(2)} ms/cell, client CPU ${clientPerCell.toFixed(2)} ms/cell; by quarter (median/server CPU per cell): ${quarters.join(', ')}`;
  } finally {
    await server.close();
  }
}

const cleanups = new Cleanups();
try {
  for (let pair = 1; pair <= pairs; pair++) {
    for (const cli of clis) console.log(`pair ${pair} ${cli}: ${await run(cli, cleanups)}`);
  }
} finally {
  await cleanups.runAll();
}
