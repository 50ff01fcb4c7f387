import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { waitUntil } from '../helpers/poll.js';

/** Starts a session and returns the pids that must not outlive the MCP server. */
async function startWorkload(server: Spawned): Promise<{ jupyterPid: number; kernelPid: number; notebook: string }> {
  const started = await call(server.client, 'start_new_session', { experiment_name: 'life' });
  assert.equal(started.isError, undefined, textOf(started));
  const sessionId = String(started.structuredContent?.session_id);
  const pidResult = await call(server.client, 'execute_code', { session_id: sessionId, code: 'import os; print(os.getpid())' });
  const kernelPid = Number.parseInt(textOf(pidResult), 10);
  const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  const jupyterPid = JSON.parse(String((status.contents[0] as { text: string }).text)).server.backend.pid as number;
  assert.ok(await isAlive(kernelPid), 'kernel alive');
  assert.ok(await isAlive(jupyterPid), 'jupyter alive');
  return { jupyterPid, kernelPid, notebook: String(started.structuredContent?.notebook_path) };
}

/** jlab-mcp's stdin, as the stdio transport holds it. */
function stdinOf(server: Spawned): NonNullable<ChildProcess['stdin']> {
  const stdin = (server.transport as unknown as { _process?: ChildProcess })._process?.stdin;
  assert.ok(stdin, 'the stdio transport holds the jlab-mcp child process');
  return stdin;
}

describe('lifecycle: nothing outlives the MCP server', () => {
  for (const how of ['SIGTERM', 'SIGINT', 'stdin closed'] as const) {
    it(`${how}: Jupyter and kernels end, the notebook stays valid`, async () => {
      const server = await spawnServer();
      const { jupyterPid, kernelPid, notebook } = await startWorkload(server);
      const pid = server.pid()!;
      // Only stdin: the client's close() would send SIGTERM after 2 s, hiding a server that ignores EOF.
      if (how === 'stdin closed') stdinOf(server).end();
      else process.kill(pid, how);
      const left = await waitUntilGone([pid, jupyterPid, kernelPid], 25_000);
      assert.deepEqual(left, [], `still running after ${how}: ${left.join(', ')}`);
      await validateWithPython([notebook]);
      await server.close().catch(() => {});
    });
  }
});

describe('lifecycle: a killed jlab-mcp leaves work for the next one, then nothing', () => {
  it('SIGKILL: Jupyter and the kernel live on (the next jlab-mcp adopts them); left alone they end after the idle timeout', { timeout: 150_000 }, async () => {
    const server = await spawnServer({ JLAB_MCP_IDLE_TIMEOUT: '5' });
    const { jupyterPid, kernelPid, notebook } = await startWorkload(server);
    process.kill(server.pid()!, 'SIGKILL');
    assert.deepEqual(await waitUntilGone([server.pid()!], 10_000), []);
    assert.ok((await isAlive(jupyterPid)) && (await isAlive(kernelPid)), 'Jupyter and the kernel outlive a SIGKILLed jlab-mcp');
    // Jupyter's own culling: the idle, unconnected kernel after 5 s, the server at its next
    // no-activity check (jupyter-server looks once a minute).
    assert.deepEqual(await waitUntilGone([kernelPid], 60_000), [], 'the idle kernel is culled');
    assert.deepEqual(await waitUntilGone([jupyterPid], 90_000), [], 'the server shuts itself down');
    await validateWithPython([notebook]);
    await server.close().catch(() => {});
  });
});

describe('server lost', () => {
  it('a Jupyter server that dies mid-cell ends the cell, sessions say how to go on, the next session gets a new server', async () => {
    const server = await spawnServer();
    try {
      const { jupyterPid, notebook } = await startWorkload(server);
      const sessionId = String(((await call(server.client, 'list_sessions')).structuredContent?.sessions as Array<{ session_id: string }>)[0]!.session_id);
      const progress: string[] = [];
      // The call's timeout (15 s) is the deadline for "promptly": past it the reply would say the cell is still running.
      const running = server.client.callTool(
        { name: 'execute_code', arguments: { session_id: sessionId, code: 'import time\nprint("sleeping now", flush=True)\ntime.sleep(60)', timeout: 15 } },
        { timeout: 120_000, onprogress: (p) => void progress.push(p.message ?? '') },
      ) as Promise<ToolResult>;
      // Kill the server once the cell is seen running (its first line in a progress notification).
      await waitUntil('progress showing the cell running', () => progress.some((m) => m.includes('sleeping now')), { intervalMs: 50, detail: () => progress });
      process.kill(jupyterPid, 'SIGKILL');
      const ended = await running;
      assert.equal(ended.isError, true, textOf(ended));
      assert.doesNotMatch(textOf(ended), /still running/);
      assert.match(textOf(ended), /ServerLost|server was lost/i);
      const after = await call(server.client, 'execute_code', { session_id: sessionId, code: '1' });
      assert.equal(after.isError, true);
      assert.match(textOf(after), new RegExp(`SERVER_LOST[\\s\\S]*start_session_resume_notebook\\(notebook_path="${notebook}"\\)`));
      await validateWithPython([notebook]);
      const fresh = await call(server.client, 'start_new_session', { experiment_name: 'after loss' });
      assert.equal(fresh.isError, undefined, textOf(fresh));
      const ran = await call(server.client, 'execute_code', { session_id: String(fresh.structuredContent?.session_id), code: 'print("alive")' });
      assert.match(textOf(ran), /^alive/);
      const resumed = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'back', notebook_path: notebook });
      assert.equal(resumed.isError, undefined, textOf(resumed));
    } finally {
      await server.close();
    }
  });
});

describe('server start failures', () => {
  it('reports a failed start on the tool call with stderr, and the next call tries again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-flaky-'));
    const flag = path.join(dir, 'healthy');
    const script = path.join(dir, 'flaky-jupyter');
    await writeFile(script, `#!/bin/sh\nif [ ! -e "${flag}" ]; then echo "simulated: jupyter is broken today" >&2; exit 7; fi\nexec jupyter-server "$@"\n`);
    await chmod(script, 0o755);
    const server = await spawnServer({ JLAB_MCP_JUPYTER_CMD: script });
    try {
      const first = await call(server.client, 'start_new_session', { experiment_name: 'flaky' });
      assert.equal(first.isError, true);
      assert.match(textOf(first), /SERVER_START_FAILED[\s\S]*simulated: jupyter is broken today/);
      assert.deepEqual(
        (await readdir(server.notebookDir)).filter((f) => f.endsWith('.ipynb')),
        [],
        'no notebook for a failed start',
      );
      await writeFile(flag, '');
      const second = await call(server.client, 'start_new_session', { experiment_name: 'flaky' });
      assert.equal(second.isError, undefined, textOf(second));
      const ran = await call(server.client, 'execute_code', { session_id: String(second.structuredContent?.session_id), code: 'print(6*7)' });
      assert.match(textOf(ran), /^42/);
    } finally {
      await server.close();
    }
  });

  it('says plainly when no Jupyter is installed', async () => {
    const server = await spawnServer({ JLAB_MCP_JUPYTER_CMD: 'definitely-not-jupyter' });
    try {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'x' });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /apt-get install jupyter-server python3-ipykernel/);
    } finally {
      await server.close();
    }
  });
});
