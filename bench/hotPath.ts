// The hot path, alternated between builds: N × execute_code("1+1") in one session through the
// official SDK 2.x client, for each dist/cli.js given, in turn, `pairs` times — the
// alternating-runs method of docs/benchmarks.md, on a quiet machine. Prints per run the median
// and p90 latency, and the MCP server's and this client's CPU per cell. Asserts nothing.
//   node --import tsx bench/hotPath.ts [n=800] [pairs=4] [cli.js ...]   (default: this checkout's dist/cli.js)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { REPO, textOf, type ToolResult } from './lib/mcpServer.js';
import { median, percentile } from './lib/stats.js';

const n = Number(process.argv[2] ?? 800);
const pairs = Number(process.argv[3] ?? 4);
const clis = process.argv.length > 4 ? process.argv.slice(4) : [path.join(REPO, 'dist', 'cli.js')];

/** CPU time (user + system) of a process so far, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const result = (await client.callTool({ name, arguments: args }, { timeout: 120_000 })) as ToolResult;
  if (result.isError) throw new Error(`${name}: ${textOf(result)}`);
  return result;
}

async function run(cli: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-hotpath-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli],
    env: {
      ...(process.env as Record<string, string>),
      JLAB_MCP_NOTEBOOK_DIR: dir,
      JLAB_MCP_STATE_DIR: path.join(dir, '.state'),
      JLAB_MCP_LOG_LEVEL: 'warn',
      JLAB_MCP_RUN_MODE: 'local',
    },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'bench-hot-path', version: '0.0.0' });
  try {
    await client.connect(transport);
    const started = await call(client, 'start_new_session', { experiment_name: 'hot path' });
    const sid = (started.structuredContent as { session_id: string }).session_id;
    const cell = { session_id: sid, code: '1+1' };
    for (let i = 0; i < 30; i++) await call(client, 'execute_code', cell);
    const server = transport.pid!;
    const serverCpu0 = cpuMs(server);
    const clientCpu0 = process.cpuUsage();
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await call(client, 'execute_code', cell);
      samples.push(performance.now() - t0);
    }
    const clientCpu = process.cpuUsage(clientCpu0);
    const serverPerCell = (cpuMs(server) - serverCpu0) / n;
    const clientPerCell = (clientCpu.user + clientCpu.system) / 1000 / n;
    await call(client, 'shutdown_session', { session_id: sid });
    return `median ${median(samples).toFixed(2)} ms, p90 ${percentile(samples, 90).toFixed(2)} ms, server CPU ${serverPerCell.toFixed(2)} ms/cell, client CPU ${clientPerCell.toFixed(2)} ms/cell`;
  } finally {
    await client.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

for (let pair = 1; pair <= pairs; pair++) {
  for (const cli of clis) console.log(`pair ${pair} ${cli}: ${await run(cli)}`);
}
