import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/client';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { readCells } from '../helpers/notebookFile.js';
import { waitUntil } from '../helpers/poll.js';

type Cell = { source: string[]; outputs: Array<{ text?: string; ename?: string }>; metadata: Record<string, unknown> };

const cellsOf = (notebook: string) => readCells<Cell>(notebook);

async function status(server: Spawned): Promise<Record<string, any>> {
  const read = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  return JSON.parse(String((read.contents[0] as { text: string }).text)) as Record<string, any>;
}

/** Polls until `check` holds, within `ms`. */
const until = (check: () => Promise<boolean>, what: string, ms = 30_000) => waitUntil(what, check, { timeoutMs: ms });

/** Sessions that outlive the MCP server: the registry, the exit policy, reattach. */
describe('sessions outlive jlab-mcp (local backend)', () => {
  const spawned: Spawned[] = [];
  const pids: number[] = [];
  after(async () => {
    for (const server of spawned) await server.close().catch(() => {});
    assert.deepEqual(await waitUntilGone(pids, 30_000), [], 'no process left');
  });
  const spawn = async (env: Record<string, string>, dir?: string) => {
    const server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'info', ...env }, dir);
    spawned.push(server);
    return server;
  };

  it('keep: a cell running across the restart is followed to its end, every line it printed (also while detached) lands once; the same session id runs in the same kernel', async (t: TestContext) => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-state-'));
    const first = await spawn({ JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_ON_EXIT: 'keep' });
    const started = await call(first.client, 'start_new_session', { experiment_name: 'outlives' });
    const sid = String(started.structuredContent?.session_id);
    const notebook = String(started.structuredContent?.notebook_path);
    await call(first.client, 'execute_code', { session_id: sid, code: 'x = 42' });
    const kernelPid = Number.parseInt(textOf(await call(first.client, 'execute_code', { session_id: sid, code: 'import os; print(os.getpid())' })), 10);
    const jupyterPid = (await status(first)).server.backend.pid as number;
    pids.push(kernelPid, jupyterPid);
    const code = 'import time\nfor i in range(12):\n    print("tick", i, flush=True)\n    time.sleep(1)';
    const running = await call(first.client, 'execute_code', { session_id: sid, code, timeout: 2.5 });
    assert.match(textOf(running), /tick 1[\s\S]*still running/);
    const firstPid = first.pid()!;
    process.kill(firstPid, 'SIGTERM');
    assert.deepEqual(await waitUntilGone([firstPid], 20_000), [], 'the first jlab-mcp exits');
    assert.ok((await isAlive(kernelPid)) && (await isAlive(jupyterPid)), 'keep: Jupyter and the kernel go on');
    // Lines printed while no jlab-mcp is attached.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const second = await spawn({ JLAB_MCP_STATE_DIR: stateDir }, first.notebookDir);
    const listed = await call(second.client, 'list_sessions');
    assert.deepEqual(
      (listed.structuredContent?.sessions as Array<{ session_id: string }>).map((s) => s.session_id),
      [sid],
      textOf(listed),
    );
    const waited = await call(second.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
    assert.match(textOf(waited), /tick 11\n[\s\S]*\[cell 2 \(id \w+\) · In \[\d+\] · ok/);
    const cell = (await cellsOf(notebook))[2]!;
    assert.equal(cell.outputs[0]?.text, Array.from({ length: 12 }, (_, i) => `tick ${i}\n`).join(''), 'every line once, in order');
    assert.equal(cell.metadata.jlab_mcp, undefined, 'no running mark left');
    const same = await call(second.client, 'execute_code', { session_id: sid, code: 'print(x, os.getpid())' });
    assert.match(textOf(same), new RegExp(`^42 ${kernelPid}\\n`), 'the same kernel, variables intact');
    await validateWithPython([notebook]);

    // Time to reattach: a new jlab-mcp spawned → the first cell answered in an adopted (idle) session.
    const secondPid = second.pid()!;
    process.kill(secondPid, 'SIGKILL');
    assert.deepEqual(await waitUntilGone([secondPid], 10_000), []);
    const t0 = performance.now();
    const third = await spawn({ JLAB_MCP_STATE_DIR: stateDir }, first.notebookDir);
    const answer = await call(third.client, 'execute_code', { session_id: sid, code: 'print(x)' });
    const reattachMs = performance.now() - t0;
    assert.match(textOf(answer), /^42\n/);
    t.diagnostic(`time to reattach (spawn jlab-mcp → first cell answered in an adopted session): ${reattachMs.toFixed(0)} ms`);
    // Policy shutdown (the default): the third one's exit stops what the first started.
    await third.close();
    assert.deepEqual(await waitUntilGone([kernelPid, jupyterPid], 30_000), [], 'shutdown: nothing left');
  });

  it('a session whose kernel was shut down while detached answers with the exact resume call; list_sessions names it', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-state-'));
    const first = await spawn({ JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_ON_EXIT: 'keep' });
    const kept = await call(first.client, 'start_new_session', { experiment_name: 'kept' });
    const doomed = await call(first.client, 'start_new_session', { experiment_name: 'doomed' });
    const doomedId = String(doomed.structuredContent?.session_id);
    const keptId = String(kept.structuredContent?.session_id);
    pids.push((await status(first)).server.backend.pid as number);
    await first.close();
    // Someone shuts the kernel down in the meantime (through Jupyter's REST API, with the token the registry points at).
    const registry = JSON.parse(await readFile(path.join(stateDir, 'registry.json'), 'utf8'));
    const server = registry.servers.default;
    const token = (await readFile(server.tokenFile, 'utf8')).trim();
    const kernelId = registry.sessions[doomedId].kernelId;
    const deleted = await fetch(new URL(`api/kernels/${kernelId}`, server.baseUrl), { method: 'DELETE', headers: { Authorization: `token ${token}` } });
    assert.equal(deleted.status, 204);

    const second = await spawn({ JLAB_MCP_STATE_DIR: stateDir }, first.notebookDir);
    const refused = await call(second.client, 'execute_code', { session_id: doomedId, code: '1' });
    assert.equal(refused.isError, true);
    assert.match(
      textOf(refused),
      new RegExp(
        `SERVER_LOST[\\s\\S]*no longer exists[\\s\\S]*start_session_resume_notebook\\(notebook_path="${String(doomed.structuredContent?.notebook_path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\)`,
      ),
    );
    const listed = await call(second.client, 'list_sessions');
    assert.deepEqual(
      (listed.structuredContent?.sessions as Array<{ session_id: string }>).map((s) => s.session_id),
      [keptId],
    );
    assert.equal((listed.structuredContent?.gone_sessions as Array<{ session_id: string }>)[0]?.session_id, doomedId);
    const fine = await call(second.client, 'execute_code', { session_id: keptId, code: 'print("still here")' });
    assert.match(textOf(fine), /^still here\n/);
    await second.close();
  });

  it('a client that negotiates the protocol era runs a throwaway jlab-mcp for its server/discover probe: that copy neither adopts nor (exiting with shutdown) stops what the last one kept', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-state-'));
    const first = await spawn({ JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_ON_EXIT: 'keep' });
    const started = await call(first.client, 'start_new_session', { experiment_name: 'probed' });
    const sid = String(started.structuredContent?.session_id);
    const kernelPid = Number.parseInt(textOf(await call(first.client, 'execute_code', { session_id: sid, code: 'import os; x = 7; print(os.getpid())' })), 10);
    pids.push(kernelPid, (await status(first)).server.backend.pid as number);
    const firstPid = first.pid()!;
    await first.close();
    assert.deepEqual(await waitUntilGone([firstPid], 20_000), [], 'the first jlab-mcp exits');

    // The SDK client in 'auto' mode spawns a sibling for server/discover, reaps it, then spawns the real one.
    const auto = { supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, '2026-07-28'], versionNegotiation: { mode: 'auto' as const } };
    const second = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'info', JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_ON_EXIT: 'shutdown' }, first.notebookDir, auto);
    spawned.push(second);
    const same = await call(second.client, 'execute_code', { session_id: sid, code: 'print(x, os.getpid())' });
    assert.match(textOf(same), new RegExp(`^7 ${kernelPid}\\n`), 'the kept kernel, variables intact');
    await second.close();
    assert.deepEqual(await waitUntilGone([kernelPid], 20_000), [], 'the real one, exiting with shutdown, stops it');
  });

  it('a corrupt registry is set aside with a clear message and the server starts; a second jlab-mcp on one state directory reads only', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-state-'));
    await writeFile(path.join(stateDir, 'registry.json'), '{"version": 1, "servers": [trunc');
    const owner = await spawn({ JLAB_MCP_STATE_DIR: stateDir });
    const started = await call(owner.client, 'start_new_session', { experiment_name: 'after-corrupt' });
    assert.equal(started.isError, undefined, textOf(started));
    pids.push((await status(owner)).server.backend.pid as number);
    assert.match(owner.stderr(), /session registry .*registry\.json could not be read .*set aside as .*registry\.json\.corrupt-\d+/);
    assert.ok((await readdir(stateDir)).some((name) => name.startsWith('registry.json.corrupt-')));
    const state = (await status(owner)).state;
    assert.equal(state.writable, true);
    assert.match(String(state.set_aside), /corrupt/);

    const reader = await spawn({ JLAB_MCP_STATE_DIR: stateDir });
    await until(async () => /owns the state directory/.test(reader.stderr()), 'the read-only warning');
    const readerState = (await status(reader)).state;
    assert.equal(readerState.writable, false);
    assert.match(String(readerState.read_only_reason), new RegExp(`another jlab-mcp \\(${owner.pid()}@`));
    const works = await call(reader.client, 'start_new_session', { experiment_name: 'reader' });
    assert.equal(works.isError, undefined, 'a read-only jlab-mcp still serves');
    pids.push((await status(reader)).server.backend.pid as number);
    const registry = JSON.parse(await readFile(path.join(stateDir, 'registry.json'), 'utf8'));
    assert.deepEqual(Object.keys(registry.sessions), [String(started.structuredContent?.session_id)], 'only the owner writes the registry');
    await reader.close();
    await owner.close();
  });
});
