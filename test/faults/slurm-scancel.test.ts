// Fault: the SLURM job hosting Jupyter is cancelled (scancel) while a cell prints. Through the
// built binary (JLAB_MCP_RUN_MODE=slurm) and the official MCP client, on the real one-node Slurm
// (scripts/slurm-cluster.sh up). Needs `npm run build` first; skipped, with the reason, without
// root, sbatch, a cluster that answers or dist/cli.js.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { pidsMatching, waitUntilGone } from '../helpers/processes.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { cancelJobs, clusterSkipReason, jobState, run, waitFor, waitJobOver, isOver } from '../slurm/helpers.js';
import { readNotebook } from '../helpers/notebookFile.js';

function hasSbatch(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v sbatch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function skipReason(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root (the one-node Slurm cluster of scripts/slurm-cluster.sh runs as root)';
  if (!hasSbatch()) return 'no sbatch on PATH (install slurm-client and run scripts/slurm-cluster.sh up)';
  if (!existsSync(CLI)) return `${CLI} is missing: run npm run build`;
  return clusterSkipReason();
}

const skip = await skipReason();
if (skip) console.error(`skipping the SLURM scancel fault test: ${skip}`);

const submitted = new Set<string>();
const dirs: string[] = [];
after(async () => {
  await cancelJobs(submitted);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Backend {
  jobId?: string;
  stateDir?: string;
}

async function backendOf(server: Spawned): Promise<Backend> {
  const res = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  const body = JSON.parse(String((res.contents[0] as { text: string }).text)) as { server: { backend: Backend } };
  return body.server.backend;
}

async function currentJob(server: Spawned): Promise<string> {
  const id = String((await backendOf(server)).jobId);
  assert.match(id, /^\d+$/);
  submitted.add(id);
  return id;
}

interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: Array<{ output_type: string; name?: string; text?: string | string[]; ename?: string }>;
}

const joined = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join('') : (value ?? ''));

describe('SLURM job cancelled mid-cell', { skip, timeout: 400_000 }, () => {
  it('[fault] scancel of the SLURM job while a cell prints → the cell ends with ServerLost recorded after its lines, the reply names the resume call, the resume runs on a new job; no job or process left', async () => {
    const stateRoot = await mkdtemp(path.join(os.tmpdir(), 'jlab-fault-slurm-'));
    dirs.push(stateRoot);
    const stopFile = path.join(stateRoot, 'stop-ticking');
    const server = await spawnServer({
      JLAB_MCP_RUN_MODE: 'slurm',
      JLAB_MCP_SLURM_PARTITION: 'debug',
      JLAB_MCP_SLURM_CPUS: '1',
      JLAB_MCP_SLURM_TIME: '10',
      JLAB_MCP_SLURM_STATE_DIR: stateRoot,
      JLAB_MCP_QUEUE_TIMEOUT: '60',
      JLAB_MCP_READY_TIMEOUT: '60',
    });
    dirs.push(server.notebookDir);
    const serverPid = server.pid()!;
    const pids = new Set<number>([serverPid]);
    let closed = false;
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'slurm scancel fault' }, 150_000);
      assert.notEqual(started.isError, true, textOf(started));
      const sessionId = String(started.structuredContent?.session_id);
      const notebook = String(started.structuredContent?.notebook_path);
      const job1 = await currentJob(server);
      const setup = await call(server.client, 'execute_code', { session_id: sessionId, code: 'x = 21\nprint("x set")' });
      assert.match(textOf(setup), /^x set/);
      // Jupyter and its kernel run with our state directory in their command lines.
      for (const pid of await pidsMatching(stateRoot)) pids.add(pid);
      assert.ok(pids.size >= 3, `the job's Jupyter and kernel processes: ${[...pids].join(', ')}`);

      // Ticks every 0.5 s for up to 10 min; the stop file (written before the resume) ends it.
      const ticker = `import os, time\ni = 0\nwhile i < 1200 and not os.path.exists(${JSON.stringify(stopFile)}):\n    print(f"tick {i}", flush=True)\n    i += 1\n    time.sleep(0.5)\nprint("ticking done")`;
      const first = await call(server.client, 'execute_code', { session_id: sessionId, code: ticker, timeout: 1 });
      assert.notEqual(first.isError, true, textOf(first));
      let seen = textOf(first);
      await waitFor('the cell prints its first ticks', 60_000, async () => {
        if (/tick 1\b/.test(seen)) return true;
        seen += textOf(await call(server.client, 'wait_for_cell', { session_id: sessionId, timeout: 1 }));
        return undefined;
      });
      assert.match(seen, /still running/);

      assert.equal((await run('scancel', [job1])).code, 0);
      const ended = await call(server.client, 'wait_for_cell', { session_id: sessionId, timeout: 60 }, 90_000);
      const endText = textOf(ended);
      assert.equal(ended.isError, true, endText);
      assert.doesNotMatch(endText, /still running/, 'the cell ended within the wait');
      assert.match(endText, /ServerLost/);
      assert.match(endText, /server_lost/);
      assert.match(endText, /start_session_resume_notebook/);
      assert.ok(isOver(await waitJobOver(job1, 30_000)));

      // The next call on the session names the exact call that brings it back.
      const refused = await call(server.client, 'execute_code', { session_id: sessionId, code: 'print(x)' }, 60_000);
      assert.equal(refused.isError, true, textOf(refused));
      assert.match(textOf(refused), /SERVER_LOST/);
      assert.ok(textOf(refused).includes(`start_session_resume_notebook(notebook_path="${notebook}")`), textOf(refused));

      // The notebook: the lines printed before the loss, then ServerLost; and it is valid.
      const nb = await readNotebook<{ cells: NotebookCell[] }>(notebook);
      const cell = nb.cells.find((c) => c.cell_type === 'code' && joined(c.source).includes('tick {i}'));
      assert.ok(cell, 'the ticking cell is in the notebook');
      const outputs = cell.outputs ?? [];
      const printed = outputs
        .filter((o) => o.output_type === 'stream')
        .map((o) => joined(o.text))
        .join('');
      assert.match(printed, /^tick 0\ntick 1\n/);
      for (const line of seen.match(/tick \d+/g) ?? []) assert.ok(printed.includes(`${line}\n`), `${line} seen by the agent is in the notebook`);
      const last = outputs[outputs.length - 1];
      assert.equal(last?.output_type, 'error');
      assert.equal(last?.ename, 'ServerLost');
      assert.doesNotMatch(printed, /ticking done/);
      await validateWithPython([notebook]);

      // Resume on a new job: every cell is replayed (the ticker stops at once now).
      await writeFile(stopFile, '');
      const resumed = await call(
        server.client,
        'start_session_resume_notebook',
        { experiment_name: 'slurm scancel fault resumed', notebook_path: notebook },
        200_000,
      );
      assert.notEqual(resumed.isError, true, textOf(resumed));
      const job2 = await currentJob(server);
      assert.notEqual(job2, job1, 'a new job');
      assert.equal(await jobState(job2), 'RUNNING');
      const again = await call(server.client, 'execute_code', { session_id: String(resumed.structuredContent?.session_id), code: 'print(x * 2, i)' });
      assert.notEqual(again.isError, true, textOf(again));
      assert.match(textOf(again), /^42 0/);
      for (const pid of await pidsMatching(stateRoot)) pids.add(pid);
      await validateWithPython([notebook]);

      await server.close();
      closed = true;
      for (const job of [job1, job2]) assert.ok(isOver(await waitJobOver(job, 30_000)), `job ${job} left`);
      assert.deepEqual(await waitUntilGone([...pids], 30_000), [], 'processes left after the client closed');
      assert.deepEqual(await pidsMatching(stateRoot), [], 'processes still naming the state directory');
    } finally {
      if (!closed) await server.close().catch(() => {});
      await waitUntilGone([serverPid], 20_000);
    }
  });
});
