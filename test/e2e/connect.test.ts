// `jlab-mcp connect` (the built binary) against the local Jupyter server a running jlab-mcp started.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readRegistry } from '../../src/state/registry.js';
import { defaultStateDir } from '../../src/state/stateDir.js';
import { call, CLI, spawnServer, type Spawned } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { waitUntil } from '../helpers/poll.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `jlab-mcp connect` with `args` and `env` over a clean environment; at most 60 s. */
function connect(args: string[], env: Record<string, string>): Promise<Ran> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JLAB_MCP_'))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'connect', ...args],
      { env: { ...base, JLAB_MCP_RUN_MODE: 'local', ...env }, timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Polls until `check` returns a value, within `ms`. */
const until = <T>(what: string, ms: number, check: () => Promise<T | undefined>) => waitUntil(what, check, { timeoutMs: ms });

describe('jlab-mcp connect (local backend)', () => {
  const spawned: Spawned[] = [];
  const pids: number[] = [];
  after(async () => {
    for (const server of spawned) await server.close().catch(() => {});
    assert.deepEqual(await waitUntilGone(pids, 30_000), [], 'no process left');
  });

  it('[bad-input] no server recorded for the notebook directory → a clear message naming the state directory, exit code 1', async () => {
    const xdg = await mkdtemp(path.join(os.tmpdir(), 'jlab-xdg-'));
    const notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-nb-'));
    const ran = await connect([], { XDG_STATE_HOME: xdg, JLAB_MCP_NOTEBOOK_DIR: notebookDir });
    assert.equal(ran.code, 1);
    assert.equal(ran.stdout, '');
    assert.ok(ran.stderr.includes(defaultStateDir(await realpath(notebookDir), { XDG_STATE_HOME: xdg })), ran.stderr);
    assert.match(ran.stderr, /no Jupyter server is recorded[\s\S]*same\s+JLAB_MCP_NOTEBOOK_DIR/);
    const json = await connect(['--json'], { XDG_STATE_HOME: xdg, JLAB_MCP_NOTEBOOK_DIR: notebookDir });
    assert.equal(json.code, 1);
    assert.deepEqual((JSON.parse(json.stdout) as { servers: unknown[] }).servers, []);
  });

  it('[bad-input] an unknown option → a clear error, exit code 2', async () => {
    const ran = await connect(['--nope'], {});
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /Unknown option --nope/);
  });

  it('prints the URL with its token for the server a running jlab-mcp started (same settings → same state directory); the URL works; after shutdown: exit 1', async () => {
    const xdg = await mkdtemp(path.join(os.tmpdir(), 'jlab-xdg-'));
    const server = await spawnServer({ XDG_STATE_HOME: xdg, JLAB_MCP_LOG_LEVEL: 'info' });
    spawned.push(server);
    const settings = { XDG_STATE_HOME: xdg, JLAB_MCP_NOTEBOOK_DIR: server.notebookDir };
    const started = await call(server.client, 'start_new_session', { experiment_name: 'look-in' });
    assert.ok(!started.isError, JSON.stringify(started));
    const stateDir = defaultStateDir(await realpath(server.notebookDir), { XDG_STATE_HOME: xdg });
    const record = await until('the local server in the registry', 20_000, async () => {
      const recorded = (await readRegistry(stateDir))?.servers.default;
      return recorded?.backend === 'local' ? recorded : undefined;
    });
    assert.ok(record.pid);
    pids.push(record.pid);

    const ran = await connect([], settings);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /jlab-mcp connect: 1 live Jupyter server/);
    assert.match(ran.stdout, new RegExp(`\\[default\\] local server \\(pid ${record.pid}\\) at 127\\.0\\.0\\.1:\\d+: jupyter-server`));
    const match = /(http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.exec(ran.stdout);
    assert.ok(match, ran.stdout);
    const [, base, token] = match;
    assert.equal(base, record.baseUrl);
    assert.match(ran.stdout, new RegExp(`ssh -N -L (\\d+):127\\.0\\.0\\.1:\\1 \\S+@${os.hostname()}`));
    // The printed token is the server's credential: with it /api/status answers, without it not.
    assert.equal((await fetch(`${base}api/status?token=${token}`, { signal: AbortSignal.timeout(10_000) })).status, 200);
    assert.equal((await fetch(`${base}api/status`, { signal: AbortSignal.timeout(10_000) })).status, 403);
    assert.ok(!server.stderr().includes(token!), "the token is never in jlab-mcp's log");

    const json = await connect(['--json'], settings);
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.stdout) as { stateDir: string; servers: { live: boolean; url: string; backend: string; app: string; https: boolean }[] };
    assert.equal(parsed.stateDir, stateDir);
    assert.deepEqual(
      parsed.servers.map((s) => [s.live, s.backend, s.app, s.https, s.url]),
      [[true, 'local', 'server', false, `${base}?token=${token}`]],
    );
    // --state-dir reaches the same registry from anywhere.
    assert.equal((await connect(['--state-dir', stateDir], {})).code, 0);

    await server.close();
    assert.deepEqual(await waitUntilGone([record.pid], 30_000), [], 'shutdown stops the server');
    const gone = await connect([], settings);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no Jupyter server is recorded|none of the/);
  });
});
