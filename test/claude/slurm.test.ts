// On a machine with Slurm (sbatch on PATH, the test cluster up): Claude Code's health check
// (`claude mcp list` connects, lists the tools and leaves) must not submit a job — on a small
// partition such a job may never start, and each check would queue another. A client that
// stays, or calls a tool, gets its job in the background. Jobs are told apart from other tests'
// by their working directory, which lies in the state directory under our throwaway HOME.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { call, missingBuildReason, spawnServer, type Spawned } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { SlurmTestScratch, clusterSkipReason, jobsUnder, slurmEnv, waitFor, waitJobOver } from '../slurm/helpers.js';
import { freshUser, installClaude, listLine, processesUnder, readmeAddLines, runCommand } from './helpers.js';

const missingBuild = missingBuildReason();
const installed = missingBuild ? { skip: missingBuild } : await installClaude();
const skip = ('skip' in installed ? installed.skip : false) || (await clusterSkipReason());
if (skip) console.error(`skipping the Claude Code SLURM tests: ${skip}`);
const claude = 'bin' in installed ? installed.bin : '';

const scratch = new SlurmTestScratch();

async function user() {
  const u = await freshUser();
  scratch.removeAtEnd(u.root);
  return u;
}

/** Job directories in jlab-mcp's default SLURM state dir (one is made before each sbatch; removed once the job is cleaned up). */
async function jobDirs(home: string): Promise<string[]> {
  return readdir(path.join(home, '.jlab-mcp', 'slurm')).catch(() => []);
}

/** The bare binary as a user on this machine runs it: no run mode set, our throwaway HOME. */
function spawnBare(home: string, env: Record<string, string> = {}): Promise<Spawned> {
  return spawnServer(slurmEnv({ JLAB_MCP_RUN_MODE: '', HOME: home, ...env }));
}

async function serverStatus(server: Spawned): Promise<{ state: string; modeReason: string }> {
  const res = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  return (JSON.parse(String((res.contents[0] as { text: string }).text)) as { server: { state: string; modeReason: string } }).server;
}

async function closeAndWait(server: Spawned): Promise<void> {
  const pid = server.pid();
  await server.close();
  if (pid) assert.deepEqual(await waitUntilGone([pid], 30_000), [], 'jlab-mcp exits when its client leaves');
}

describe('Claude Code where sbatch is on PATH: a health check submits no job', { skip, timeout: 300_000 }, () => {
  it('the README SLURM line: claude mcp list reports connected and no job is submitted', async () => {
    const line = (await readmeAddLines()).find((argv) => argv.includes('JLAB_MCP_RUN_MODE=slurm'));
    assert.ok(line, 'README has a line for the SLURM backend');
    const u = await user();
    const added = await runCommand(claude, line, { cwd: u.project, env: u.env, timeoutMs: 90_000 });
    assert.equal(added.code, 0, added.stderr);
    const listed = await runCommand(claude, ['mcp', 'list'], { cwd: u.project, env: u.env, timeoutMs: 90_000 });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listLine(listed.stdout) ?? listed.stdout, /^jlab-mcp: bash \S+\/scripts\/run\.sh - ✔ Connected$/);
    console.error(`claude mcp list (SLURM backend through scripts/run.sh) reported Connected after ${listed.ms} ms`);
    assert.deepEqual(await waitUntilGone(await processesUnder(u.root), 30_000), [], 'jlab-mcp has exited');
    assert.deepEqual(await jobsUnder(u.root, scratch.submitted), [], 'no SLURM job was submitted');
    assert.deepEqual(await jobDirs(u.home), [], 'no job directory left either');
  });

  it('the bare binary picks slurm here; a client that connects and leaves submits nothing', async () => {
    const u = await user();
    const server = await spawnBare(u.home);
    const status = await serverStatus(server);
    assert.match(status.modeReason, /sbatch found on PATH/, 'no run mode set: the binary picks slurm because sbatch is here');
    assert.equal(status.state, 'idle');
    await closeAndWait(server);
    assert.deepEqual(await jobsUnder(u.root, scratch.submitted), []);
    assert.deepEqual(await jobDirs(u.home), []);
  });

  it('a client that stays gets its job in the background without a call; it ends when the client leaves', async () => {
    const u = await user();
    const server = await spawnBare(u.home, { JLAB_MCP_PRESTART_DELAY: '1' });
    try {
      const [job] = await waitFor('a job once the client has stayed', 60_000, async () =>
        (await jobsUnder(u.root, scratch.submitted)).length > 0 ? jobsUnder(u.root, scratch.submitted) : undefined,
      );
      assert.match((await serverStatus(server)).state, /^(starting|ready|failed)$/);
      await closeAndWait(server);
      await waitJobOver(job!, 60_000);
    } finally {
      await server.close().catch(() => {});
    }
  });

  it('the first tool call submits the job at once, well before the delay', async () => {
    const u = await user();
    const server = await spawnBare(u.home, { JLAB_MCP_PRESTART_DELAY: '600' });
    try {
      assert.deepEqual(await jobDirs(u.home), [], 'nothing before the call');
      const listed = await call(server.client, 'list_sessions');
      assert.notEqual(listed.isError, true);
      const [job] = await waitFor('a job after the first tool call', 60_000, async () =>
        (await jobsUnder(u.root, scratch.submitted)).length > 0 ? jobsUnder(u.root, scratch.submitted) : undefined,
      );
      await closeAndWait(server);
      await waitJobOver(job!, 60_000);
    } finally {
      await server.close().catch(() => {});
    }
  });
});
