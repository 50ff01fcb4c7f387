// Jobs that outlive jlab-mcp, on the real one-node Slurm through the built binary: a SIGKILLed
// jlab-mcp's job is adopted by the next one (same session ids, a running cell followed to its
// end, the lines printed while nobody was attached in the notebook); shutdown leaves nothing;
// a job left with the keep policy ends by itself, sparing a busy kernel.
// Needs `npm run build` and scripts/slurm-cluster.sh up; skipped without them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readRegistry } from '../../src/state/registry.js';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { isAlive, pidsMatching, waitUntilGone } from '../helpers/processes.js';
import { SlurmTestScratch, binarySkipReason, isOver, jobState, slurmEnv, waitFor, waitJobOver } from './helpers.js';
import { readNotebook } from '../helpers/notebookFile.js';

const skip = await binarySkipReason();
if (skip) console.error(`skipping SLURM reattach tests: ${skip}`);

const scratch = new SlurmTestScratch();

/** Everything two jlab-mcp processes must share to be "the same" for reattach. */
async function place(): Promise<{ env: Record<string, string>; notebookDir: string }> {
  return {
    notebookDir: await scratch.tempDir('jlab-reattach-nb-'),
    env: slurmEnv({
      JLAB_MCP_SLURM_TIME: '15',
      JLAB_MCP_SLURM_STATE_DIR: await scratch.tempDir('jlab-reattach-jobs-'),
      JLAB_MCP_STATE_DIR: await scratch.tempDir('jlab-reattach-state-'),
    }),
  };
}

async function spawn(where: { env: Record<string, string>; notebookDir: string }, env: Record<string, string> = {}): Promise<Spawned> {
  return scratch.killAtEnd(await spawnServer({ ...where.env, ...env }, where.notebookDir));
}

async function jobOf(server: Spawned): Promise<{ id: string; dir: string }> {
  const res = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  const backend = JSON.parse(String((res.contents[0] as { text: string }).text)).server.backend as { jobId: string; stateDir: string };
  assert.match(String(backend.jobId), /^\d+$/);
  scratch.submitted.add(backend.jobId);
  return { id: backend.jobId, dir: backend.stateDir };
}

async function newSession(server: Spawned, name: string): Promise<{ id: string; notebook: string }> {
  const started = await call(server.client, 'start_new_session', { experiment_name: name }, 150_000);
  assert.notEqual(started.isError, true, textOf(started));
  return { id: String(started.structuredContent?.session_id), notebook: String(started.structuredContent?.notebook_path) };
}

/** Outputs of the notebook's code cells, as one text. */
async function notebookText(file: string): Promise<string> {
  const nb = await readNotebook<{ cells: Array<{ cell_type: string; outputs?: Array<{ text?: string | string[] }> }> }>(file);
  return nb.cells
    .flatMap((cell) => cell.outputs ?? [])
    .map((output) => (Array.isArray(output.text) ? output.text.join('') : (output.text ?? '')))
    .join('');
}

const TICKS = 'import time\nfor i in range(20):\n    print(f"tick {i}", flush=True)\n    time.sleep(1)';

describe('SLURM jobs that outlive jlab-mcp', { skip, timeout: 400_000, concurrency: true }, () => {
  it('[reattach] SIGKILL of jlab-mcp mid-cell → the next one adopts the job: same session id, x intact, every line in the notebook; shutdown leaves no job', async (t) => {
    const where = await place();
    const first = await spawn(where);
    const s = await newSession(first, 'outlives');
    const set = await call(first.client, 'execute_code', { session_id: s.id, code: 'x = 41\nprint("x set")' });
    assert.match(textOf(set), /x set/);
    const job = await jobOf(first);
    const partial = await call(first.client, 'execute_code', { session_id: s.id, code: TICKS, timeout: 3 });
    assert.match(textOf(partial), /still running/);
    // The registry records the running cell (after ~1 s): that is what the next jlab-mcp follows.
    await waitFor('the running cell is in the registry', 10_000, async () =>
      (await readRegistry(where.env.JLAB_MCP_STATE_DIR!))?.sessions[s.id]?.running ? true : undefined,
    );
    process.kill(first.pid()!, 'SIGKILL');
    await first.close().catch(() => {});
    // Lines keep coming while nobody is attached.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.equal(await jobState(job.id), 'RUNNING', 'a SIGKILLed jlab-mcp leaves its job running');

    const second = await spawn(where);
    const listed = await call(second.client, 'list_sessions', {});
    assert.match(textOf(listed), new RegExp(s.id));
    const end = await call(second.client, 'wait_for_cell', { session_id: s.id, timeout: 60 }, 90_000);
    assert.notEqual(end.isError, true, textOf(end));
    assert.match(textOf(end), /tick 19/);
    assert.match(textOf(end), /· ok ·/);
    const x = await call(second.client, 'execute_code', { session_id: s.id, code: 'print(x)' });
    assert.match(textOf(x), /^41/);
    assert.equal((await jobOf(second)).id, job.id, 'the same job, adopted');
    const text = await notebookText(s.notebook);
    for (let i = 0; i < 20; i++) assert.ok(text.includes(`tick ${i}\n`), `tick ${i} is in the notebook:\n${text}`);
    await call(second.client, 'execute_code', { session_id: s.id, code: 'x = 42' });

    // The time to reattach: a new jlab-mcp spawned → the first cell answered in the adopted session.
    process.kill(second.pid()!, 'SIGKILL');
    await second.close().catch(() => {});
    const spawnedAt = Date.now();
    const third = await spawn(where);
    const again = await call(third.client, 'execute_code', { session_id: s.id, code: 'print(x)' });
    const reattachMs = Date.now() - spawnedAt;
    assert.match(textOf(again), /^42/);
    t.diagnostic(`reattach on SLURM (new jlab-mcp spawned → first cell answered): ${reattachMs} ms`);

    // Exit policy shutdown (the default): no job and no Jupyter process left.
    const jupyters = await pidsMatching(job.dir);
    assert.ok(jupyters.length > 0, 'the job runs Jupyter with its directory in argv');
    process.kill(third.pid()!, 'SIGTERM');
    await waitJobOver(job.id, 30_000);
    assert.deepEqual(await waitUntilGone(jupyters, 20_000), [], 'no process of the job left');
    assert.equal(existsSync(job.dir), false, 'its directory is removed');
  });

  it('[reattach] keep: the kept job ends by itself after the idle timeout (Jupyter culls the kernel, then shuts down), not while a cell runs', async (t) => {
    const where = await place();
    // Only Jupyter's own culling may end this job: the heartbeat timeout is far away.
    const server = await spawn(where, { JLAB_MCP_ON_EXIT: 'keep', JLAB_MCP_IDLE_TIMEOUT: '8', JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT: '3600' });
    const s = await newSession(server, 'kept');
    const job = await jobOf(server);
    // The cell's 25 s count from before it was sent: a job that ends earlier ended under it.
    const cellSentAt = Date.now();
    const busy = await call(server.client, 'execute_code', { session_id: s.id, code: 'import time\nprint("busy", flush=True)\ntime.sleep(25)', timeout: 2 });
    assert.match(textOf(busy), /still running/);
    const exitedAt = Date.now();
    process.kill(server.pid()!, 'SIGTERM');
    const pid = server.pid()!;
    await waitFor('jlab-mcp exits', 25_000, async () => ((await isAlive(pid)) ? undefined : true));
    // Well past the idle timeout, the busy kernel is still there.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 18_000 - (Date.now() - exitedAt))));
    assert.equal(await jobState(job.id), 'RUNNING', 'a busy kernel keeps the kept job');
    const state = await waitJobOver(job.id, 150_000);
    const took = (Date.now() - exitedAt) / 1000;
    t.diagnostic(`kept job ${job.id} ${state} ${took.toFixed(0)} s after jlab-mcp exited (idle timeout 8 s, cell 25 s)`);
    const sinceCell = (Date.now() - cellSentAt) / 1000;
    assert.ok(sinceCell >= 25, `ended ${sinceCell} s after the 25 s cell was sent, before it could finish`);
    const log = await readFile(path.join(job.dir, `slurm-${job.id}.out`), 'utf8');
    assert.match(log, /Jupyter exited with code 0/, log);
    assert.doesNotMatch(log, /no heartbeat from jlab-mcp .* stopping/, 'Jupyter ended itself; the watchdog did not');
  });

  it('[reattach] keep: without a heartbeat the job stops only once no kernel is busy', async (t) => {
    const where = await place();
    const server = await spawn(where, { JLAB_MCP_ON_EXIT: 'keep', JLAB_MCP_IDLE_TIMEOUT: '3600', JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT: '8' });
    const s = await newSession(server, 'watchdog');
    const job = await jobOf(server);
    // The cell's 25 s count from before it was sent: a job that ends earlier ended under it.
    const cellSentAt = Date.now();
    const busy = await call(server.client, 'execute_code', { session_id: s.id, code: 'import time\nprint("busy", flush=True)\ntime.sleep(25)', timeout: 2 });
    assert.match(textOf(busy), /still running/);
    const exitedAt = Date.now();
    process.kill(server.pid()!, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 18_000));
    assert.equal(await jobState(job.id), 'RUNNING', 'the heartbeat is stale, but the kernel is busy');
    const state = await waitJobOver(job.id, 60_000);
    const took = (Date.now() - exitedAt) / 1000;
    t.diagnostic(`job ${job.id} ${state} ${took.toFixed(0)} s after jlab-mcp exited (heartbeat timeout 8 s, cell 25 s)`);
    const sinceCell = (Date.now() - cellSentAt) / 1000;
    assert.ok(sinceCell >= 25, `ended ${sinceCell} s after the 25 s cell was sent, before it could finish`);
    assert.ok(isOver(await jobState(job.id)));
    const log = await readFile(path.join(job.dir, `slurm-${job.id}.out`), 'utf8');
    assert.match(log, /a kernel is busy: Jupyter goes on/, log);
    assert.match(log, /no heartbeat from jlab-mcp for \d+ s \(limit 8 s\): stopping/, log);
  });
});
