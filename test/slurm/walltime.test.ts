// Walltime that never surprises, on the real one-node Slurm through the built binary: 2-minute
// jobs signalled (USR1) ahead of their end. notify: a warning log notification, the time left in
// the cell footer, then "ending" with every notebook saved. resubmit: the session moves to a new
// job with its notebook replayed, same session id. Extension: scontrol granted (root) or refused
// (an ordinary user), said plainly either way.
// Needs `npm run build` and scripts/slurm-cluster.sh up; skipped without them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { SlurmTestScratch, binarySkipReason, isOver, jobState, run, slurmEnv, waitFor, waitJobOver } from './helpers.js';

const skip = await binarySkipReason();
if (skip) console.error(`skipping SLURM walltime tests: ${skip}`);

const scratch = new SlurmTestScratch();

async function tmp(prefix: string, owner?: number): Promise<string> {
  const dir = await scratch.tempDir(prefix);
  if (owner !== undefined) await chown(dir, owner, owner);
  return dir;
}

interface Watched {
  server: Spawned;
  /** Log notifications received so far (level and text). */
  messages: Array<{ level: string; text: string }>;
}

/** 2-minute jobs with the warning at 90 s left; Slurm's signal then comes at 60 s left (half the limit). */
async function walltimeEnv(env: Record<string, string>, owner?: number): Promise<Record<string, string>> {
  return slurmEnv({
    JLAB_MCP_SLURM_TIME: '2',
    JLAB_MCP_WALLTIME_WARNING: '90',
    JLAB_MCP_SLURM_STATE_DIR: await tmp('jlab-walltime-jobs-', owner),
    JLAB_MCP_STATE_DIR: path.join(await tmp('jlab-walltime-state-', owner), 'state'),
    ...env,
  });
}

function watch(server: Spawned): Watched {
  const messages: Watched['messages'] = [];
  server.client.setNotificationHandler('notifications/message', (notification) => {
    messages.push({ level: notification.params.level, text: String(notification.params.data) });
  });
  scratch.killAtEnd(server);
  return { server, messages };
}

async function start(env: Record<string, string>): Promise<Watched> {
  return watch(await spawnServer(await walltimeEnv(env)));
}

async function message(w: Watched, re: RegExp, timeoutMs: number): Promise<{ level: string; text: string }> {
  try {
    return await waitFor(`a log notification matching ${re}`, timeoutMs, async () => w.messages.find((m) => re.test(m.text)));
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n--- notifications ---\n${w.messages.map((m) => `${m.level}: ${m.text}`).join('\n')}\n--- jlab-mcp log (tail) ---\n${w.server.stderr().slice(-4000)}`,
    );
  }
}

async function status(
  server: Spawned,
): Promise<{ server: { backend: { jobId: string; stateDir: string } }; sessions: Array<{ walltime?: { ending: boolean; secondsLeft?: number } }> }> {
  const res = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  return JSON.parse(String((res.contents[0] as { text: string }).text));
}

async function jobOf(server: Spawned): Promise<string> {
  const id = String((await status(server)).server.backend.jobId);
  assert.match(id, /^\d+$/);
  scratch.submitted.add(id);
  return id;
}

async function newSession(server: Spawned, name: string): Promise<string> {
  const started = await call(server.client, 'start_new_session', { experiment_name: name }, 150_000);
  assert.notEqual(started.isError, true, textOf(started));
  return String(started.structuredContent?.session_id);
}

async function stop(server: Spawned, jobs: string[]): Promise<void> {
  process.kill(server.pid()!, 'SIGTERM');
  for (const job of jobs) await waitJobOver(job, 30_000);
}

describe('SLURM walltime', { skip, timeout: 400_000, concurrency: true }, () => {
  it('[walltime] notify: a warning at the threshold, the time left in each footer, then "ending" with the notebooks saved', async () => {
    const w = await start({ JLAB_MCP_ON_WALLTIME: 'notify' });
    const session = await newSession(w.server, 'notify');
    const job = await jobOf(w.server);
    const early = await call(w.server.client, 'execute_code', { session_id: session, code: 'print("early")' });
    assert.doesNotMatch(textOf(early), /min left|s left/, 'above the threshold the footer says nothing about time');
    const warning = await message(w, new RegExp(`SLURM job ${job} reaches its walltime`), 120_000);
    assert.equal(warning.level, 'warning');
    const later = await call(w.server.client, 'execute_code', { session_id: session, code: 'print("later")' });
    assert.match(textOf(later), new RegExp(`· session ${session} · job ${job}: (1 min|\\d+ s) left`));
    const ending = await message(w, /Every notebook is saved\. When the job ends/, 90_000);
    assert.equal(ending.level, 'warning');
    assert.equal((await status(w.server)).sessions[0]?.walltime?.ending, true);
    assert.ok(existsSync(path.join((await status(w.server)).server.backend.stateDir, 'walltime-signal')), "the job recorded Slurm's USR1");
    const last = await call(w.server.client, 'execute_code', { session_id: session, code: 'print("last")' });
    assert.match(textOf(last), /ending: save what you need/);
    await stop(w.server, [job]);
  });

  it('[walltime] resubmit: the session moves to a new job ahead of the end, state replayed, same session id, errors listed', async () => {
    const w = await start({ JLAB_MCP_ON_WALLTIME: 'resubmit' });
    const session = await newSession(w.server, 'resubmit');
    const first = await jobOf(w.server);
    for (const code of ['x = 21', 'y = x * 2', '1/0']) await call(w.server.client, 'execute_code', { session_id: session, code });
    const moved = await message(w, /replaces job/, 170_000);
    const second = await jobOf(w.server);
    assert.notEqual(second, first);
    assert.match(moved.text, new RegExp(`SLURM job ${second} replaces job ${first} \\(walltime\\): sessions ${session} moved`));
    const after = await call(w.server.client, 'execute_code', { session_id: session, code: 'print(x, y)' }, 120_000);
    assert.notEqual(after.isError, true, textOf(after));
    assert.match(textOf(after), /^21 42/);
    assert.match(textOf(after), new RegExp(`Session ${session} moved from SLURM job ${first} \\(walltime\\) to job ${second}, same session id`));
    assert.match(textOf(after), /ZeroDivisionError/);
    assert.ok(isOver(await jobState(first)) || (await waitJobOver(first, 60_000)), 'the old job is cancelled once the session moved');
    await stop(w.server, [second]);
  });

  it('[walltime] extension granted: scontrol adds the minutes and says so instead of ending', async () => {
    const w = await start({ JLAB_MCP_ON_WALLTIME: 'notify', JLAB_MCP_WALLTIME_EXTEND: '5' });
    await newSession(w.server, 'extend');
    const job = await jobOf(w.server);
    const extended = await message(w, /time limit was extended by 5 min/, 150_000);
    assert.equal(extended.level, 'info');
    const limit = await run('squeue', ['--noheader', `--jobs=${job}`, '--format=%l']);
    assert.equal(limit.stdout.trim(), '7:00');
    assert.equal(
      w.messages.some((m) => /When the job ends/.test(m.text)),
      false,
      'not ending after the extension',
    );
    await stop(w.server, [job]);
  });

  it("[walltime] extension refused (an ordinary user): Slurm's words, then the ending as usual", async () => {
    const nobody = 65534;
    const home = await tmp('jlab-walltime-home-', nobody);
    const notebookDir = await tmp('jlab-walltime-nb-', nobody);
    const env = await walltimeEnv({ JLAB_MCP_ON_WALLTIME: 'notify', JLAB_MCP_WALLTIME_EXTEND: '5', HOME: home }, nobody);
    const w = watch(await spawnServer(env, notebookDir, undefined, ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups']));
    const session = await call(w.server.client, 'start_new_session', { experiment_name: 'refused' }, 150_000);
    assert.notEqual(session.isError, true, `${textOf(session)}\n${w.server.stderr()}`);
    const job = await jobOf(w.server);
    const refused = await message(
      w,
      new RegExp(`Slurm refused to extend job ${job} by 5 min \\(JLAB_MCP_WALLTIME_EXTEND\\): .*(denied|not permitted)`, 'i'),
      150_000,
    );
    assert.equal(refused.level, 'warning');
    await message(w, /When the job ends/, 30_000);
    await stop(w.server, [job]);
  });
});
