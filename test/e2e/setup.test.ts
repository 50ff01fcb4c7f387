// The run command sets Jupyter up (src/setup/): the built binary, PATH stripped of Jupyter, so the
// plan picks the private venv; python3 -m venv and pip install run for real (from this machine's
// package index when it has one, /opt/pypi/simple here; from PyPI elsewhere), while MCP is served
// at once and the start call waits with progress. Also: pip failing → a clear error naming the
// command, and the venv finished (not remade) next time; JLAB_MCP_SETUP=off → the exact command;
// the apt path for real where Jupyter is missing and we are root (skipped on a machine with Jupyter).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { JupyterSetup } from '../../src/setup/jupyterSetup.js';
import { which } from '../../src/util/which.js';
import { call, spawnServer, textOf, type ToolResult } from '../helpers/mcpClient.js';
import { pidsMatching, waitUntilGone } from '../helpers/processes.js';
import { waitUntil } from '../helpers/poll.js';

const LOCAL_INDEX = '/opt/pypi/simple';
/** The real interpreter behind PATH's python3 (a pyenv shim is a script that needs pyenv on PATH). */
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
/**
 * Why skip rather than fail: the venv tests install jupyter_server with pip, which needs a package
 * index (PyPI, or a mirror like this machine's). Where none answers, say so instead of failing.
 */
const indexSkip = ((): string | false => {
  const dest = path.join(os.tmpdir(), `jlab-pip-probe-${process.pid}`);
  try {
    execFileSync(PYTHON, ['-m', 'pip', 'download', '--no-deps', '-q', '-d', dest, 'jupyter_server', 'ipykernel'], {
      env: { ...process.env, PIP_RETRIES: '0', PIP_DEFAULT_TIMEOUT: '10', ...(existsSync(LOCAL_INDEX) ? { PIP_INDEX_URL: `file://${LOCAL_INDEX}` } : {}) },
      stdio: 'ignore',
      timeout: 90_000,
    });
    return false;
  } catch {
    return 'no Python package index answers here (pip download jupyter_server failed): the private-venv install cannot run';
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
})();
const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** A PATH with python3 and nothing else: no jupyter-server, no apt-get. */
async function strippedMachine(): Promise<{ env: Record<string, string>; venv: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'jlab-setup-'));
  scratch.push(root);
  await mkdir(path.join(root, 'bin'));
  await symlink(PYTHON, path.join(root, 'bin', 'python3'));
  const env: Record<string, string> = { PATH: path.join(root, 'bin'), XDG_DATA_HOME: path.join(root, 'data'), JLAB_MCP_SETUP: 'auto' };
  // This machine has no PyPI but a local mirror; pip's default index would retry PyPI for minutes first.
  if (existsSync(LOCAL_INDEX)) Object.assign(env, { PIP_INDEX_URL: `file://${LOCAL_INDEX}`, PIP_RETRIES: '0' });
  return { env, venv: path.join(root, 'data', 'jlab-mcp', 'venv') };
}

async function startWithProgress(server: Awaited<ReturnType<typeof spawnServer>>, name: string): Promise<{ result: ToolResult; progress: string[] }> {
  const progress: string[] = [];
  const result = (await server.client.callTool(
    { name: 'start_new_session', arguments: { experiment_name: name } },
    { timeout: 60_000, resetTimeoutOnProgress: true, maxTotalTimeout: 1_500_000, onprogress: (p) => void progress.push(p.message ?? '') },
  )) as ToolResult;
  return { result, progress };
}

describe('set-up of Jupyter by the binary', { concurrency: false }, () => {
  it('no Jupyter on PATH, not able to apt: a private venv with pip, served at once, the start call waits with progress; reused next time', {
    skip: indexSkip,
  }, async () => {
    const { env, venv } = await strippedMachine();
    const server = await spawnServer(env);
    try {
      // Served at once: a tool answers while the setup runs in the background.
      const listed = await call(server.client, 'list_sessions', {}, 30_000);
      assert.ok(!listed.isError, textOf(listed));
      const { result, progress } = await startWithProgress(server, 'venv-setup');
      assert.ok(!result.isError, `${textOf(result)}\n--- stderr ---\n${server.stderr().slice(-3000)}`);
      assert.ok(
        progress.some((m) => /setting up Jupyter, step 2\/2: pip install jupyter_server ipykernel/.test(m)),
        `progress: ${JSON.stringify(progress.slice(0, 5))}`,
      );
      const sid = (result.structuredContent as { session_id: string }).session_id;
      const cell = await call(server.client, 'execute_code', { session_id: sid, code: 'import sys\nprint(6*7, sys.prefix)' });
      assert.match(textOf(cell), new RegExp(`42 ${venv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the kernel runs in the private venv');
      const log = server.stderr();
      assert.match(log, /setup: no Jupyter server on PATH; making a private venv .* \(2 steps\)/);
      assert.match(log, /setup 1\/2: python3 -m venv --system-site-packages /);
      assert.match(log, /setup 2\/2 done in \d+ s/);
      assert.ok(existsSync(path.join(venv, '.jlab-mcp-ready')), 'the ready marker is written');
    } finally {
      await server.close();
    }
    assert.deepEqual(await waitUntilGone(await pidsMatching(venv), 15_000), [], 'nothing from the venv outlives jlab-mcp');

    const again = await spawnServer(env);
    try {
      const { result } = await startWithProgress(again, 'venv-reuse');
      assert.ok(!result.isError, textOf(result));
      assert.match(again.stderr(), /setup: no Jupyter server on PATH; using the private venv /);
      assert.doesNotMatch(again.stderr(), /setup 1\//, 'nothing installed the second time');
    } finally {
      await again.close();
    }
  });

  it("pip cannot install: the start call fails with pip's words and the command to run; the half-made venv is finished, not remade, next time", async () => {
    const { env, venv } = await strippedMachine();
    // No index at all: pip has nothing to install from (the machine's find-links hold no Jupyter).
    Object.assign(env, { PIP_NO_INDEX: '1' });
    const server = await spawnServer(env);
    try {
      const first = await call(server.client, 'start_new_session', { experiment_name: 'no-pip' }, 300_000);
      assert.equal(first.isError, true);
      const text = textOf(first);
      assert.match(text, /SERVER_START_FAILED/);
      assert.match(text, /Setting up Jupyter failed: pip install jupyter_server ipykernel .* exited with code 1/);
      assert.match(text, /No matching distribution found for jupyter_server|Could not find a version/);
      assert.match(text, /Run it yourself: .*pip install .*jupyter_server ipykernel/);
      assert.ok(existsSync(path.join(venv, 'bin', 'python')) && !existsSync(path.join(venv, '.jlab-mcp-ready')));
      const second = await call(server.client, 'start_new_session', { experiment_name: 'no-pip-2' }, 300_000);
      assert.equal(second.isError, true);
      assert.match(server.stderr(), /finishing the private venv .* \(1 step\)/);
      assert.match(server.stderr(), /setup 1\/1: pip install/);
    } finally {
      await server.close();
    }
  });

  it('the client goes away while pip runs: jlab-mcp exits, pip is stopped, the venv is not marked ready', { skip: indexSkip }, async () => {
    const { env, venv } = await strippedMachine();
    const server = await spawnServer(env);
    const pending = call(server.client, 'start_new_session', { experiment_name: 'cut' }, 300_000).catch(() => undefined);
    await waitUntil('pip started', () => /setup 2\/2: pip install/.test(server.stderr()), { timeoutMs: 120_000, detail: () => server.stderr().slice(-2000) });
    const pid = server.pid()!;
    await server.close();
    await pending;
    assert.deepEqual(await waitUntilGone([pid], 30_000), [], 'jlab-mcp exits');
    assert.deepEqual(await waitUntilGone(await pidsMatching(venv), 15_000), [], 'no pip left running');
    assert.equal(existsSync(path.join(venv, '.jlab-mcp-ready')), false);
  });

  it('JLAB_MCP_SETUP=off: nothing installed; the call names the exact commands', async () => {
    const { env, venv } = await strippedMachine();
    const server = await spawnServer({ ...env, JLAB_MCP_SETUP: 'off' });
    try {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'off' }, 60_000);
      assert.equal(result.isError, true);
      assert.match(textOf(result), /No Jupyter server to start: no Jupyter server on PATH; JLAB_MCP_SETUP=off installs nothing/);
      assert.match(textOf(result), new RegExp(`Run: python3 -m venv --system-site-packages ${venv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} && `));
      assert.equal(existsSync(venv), false);
    } finally {
      await server.close();
    }
  });

  const aptSkip = which('jupyter-server')
    ? 'Jupyter is installed here (jupyter-server on PATH); the apt path runs on a machine without it'
    : process.getuid?.() !== 0 || !which('apt-get')
      ? 'needs root and apt-get'
      : false;
  it('root with apt-get and no Jupyter: the Debian packages are installed for real', { skip: aptSkip }, async () => {
    const setup = new JupyterSetup({ policy: 'auto' });
    const command = await setup.ensure(AbortSignal.timeout(1_500_000));
    assert.equal(command, undefined, 'the Jupyter on PATH is used');
    assert.ok(which('jupyter-server'), 'jupyter-server is on PATH after the set-up');
    assert.ok(existsSync('/usr/share/jupyter/kernels/python3/kernel.json'), 'with a Python kernel');
  });
});
