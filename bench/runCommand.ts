// The run command's warm path, timed: `bash scripts/run.sh` spawned by the official MCP client
// (as an MCP client launches it) → handshake answered → start_new_session → the first cell
// answered. Jupyter already installed and dist/ built (the fresh set-up path is not measured
// here). Prints each run and the median; asserts nothing.
//   node --import tsx bench/runCommand.ts [runs=5]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { REPO, textOf, type ToolResult } from './lib/mcpServer.js';

const runs = Number(process.argv[2] ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rows: { handshake: number; session: number; cell: number }[] = [];
for (let i = 0; i < runs; i++) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-runcmd-'));
  const t0 = performance.now();
  const transport = new StdioClientTransport({
    command: 'bash',
    args: [path.join(REPO, 'scripts', 'run.sh')],
    env: { ...(process.env as Record<string, string>), JLAB_MCP_NOTEBOOK_DIR: dir, JLAB_MCP_STATE_DIR: path.join(dir, '.state'), JLAB_MCP_LOG_LEVEL: 'warn' },
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const client = new Client({ name: 'bench-run-command', version: '0.0.0' });
  try {
    await client.connect(transport);
    const handshake = performance.now() - t0;
    const started = (await client.callTool({ name: 'start_new_session', arguments: { experiment_name: 'warm' } }, { timeout: 120_000 })) as ToolResult;
    if (started.isError) throw new Error(textOf(started));
    const session = performance.now() - t0;
    const sid = (started.structuredContent as { session_id: string }).session_id;
    const cell = (await client.callTool({ name: 'execute_code', arguments: { session_id: sid, code: 'print(6*7)' } }, { timeout: 120_000 })) as ToolResult;
    if (!/42/.test(textOf(cell))) throw new Error(textOf(cell));
    rows.push({ handshake, session, cell: performance.now() - t0 });
    console.log(
      `run ${i + 1}: handshake ${handshake.toFixed(0)} ms, session ${session.toFixed(0)} ms, first cell answered ${(performance.now() - t0).toFixed(0)} ms`,
    );
  } catch (error) {
    console.error(`run ${i + 1} failed: ${String(error)}\n--- stderr ---\n${log}`);
    process.exitCode = 1;
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}
console.log(
  `median of ${runs}: handshake ${median(rows.map((r) => r.handshake)).toFixed(0)} ms, session ${median(rows.map((r) => r.session)).toFixed(0)} ms, first cell ${median(rows.map((r) => r.cell)).toFixed(0)} ms`,
);
