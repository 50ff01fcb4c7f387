import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { httpClient, spawnHttpServer, type HttpSpawned } from '../helpers/httpServer.js';
import { call, textOf } from '../helpers/mcpClient.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { validateWithPython } from '../helpers/validateNotebook.js';

describe('HTTP: a whole session through the official client over streamable HTTP', () => {
  let server: HttpSpawned;
  let laptop: Client;
  let sessionId = '';
  let notebook = '';
  before(async () => {
    server = await spawnHttpServer();
    laptop = await httpClient(server.url, server.token, 'laptop');
  });
  after(async () => {
    await laptop?.close().catch(() => {});
    await server?.stop();
  });

  it('start_new_session, then execute_code → 42, recorded in the notebook', async () => {
    const started = await call(laptop, 'start_new_session', { experiment_name: 'over http' });
    assert.equal(started.isError, undefined, textOf(started));
    sessionId = String(started.structuredContent?.session_id);
    notebook = String(started.structuredContent?.notebook_path);
    const answer = await call(laptop, 'execute_code', { session_id: sessionId, code: 'x = 6\nx * 7' });
    assert.equal(answer.isError, undefined, textOf(answer));
    assert.match(textOf(answer), /^42\b/);
    await validateWithPython([notebook]);
  });

  it('a waiting call streams its progress notifications over SSE', async () => {
    const seen: string[] = [];
    const result = await laptop.callTool(
      {
        name: 'execute_code',
        arguments: { session_id: sessionId, code: 'import time\nfor i in range(3):\n    print("tick", i, flush=True); time.sleep(1.2)' },
      },
      { onprogress: (progress) => seen.push(progress.message ?? ''), timeout: 60_000 },
    );
    assert.match(textOf(result as never), /tick 2/);
    assert.ok(seen.length >= 1, 'progress arrived while the cell ran');
  });

  it('a second connection (the laptop reconnecting) finds the session and its variables', async () => {
    const again = await httpClient(server.url, server.token, 'laptop-again');
    try {
      const sessions = await call(again, 'list_sessions');
      assert.ok(textOf(sessions).includes(sessionId), textOf(sessions));
      const answer = await call(again, 'execute_code', { session_id: sessionId, code: 'x + 1' });
      assert.match(textOf(answer), /^7\b/);
    } finally {
      await again.close();
    }
  });

  it('ending an MCP session (DELETE) leaves the Jupyter session running for the others', async () => {
    const other = new Client({ name: 'short-lived', version: '0' });
    const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } });
    await other.connect(transport);
    const id = transport.sessionId!;
    await transport.terminateSession();
    await other.close();
    assert.match(server.stderr(), new RegExp(`MCP session ${id.slice(0, 8)}… closed`));
    const answer = await call(laptop, 'execute_code', { session_id: sessionId, code: 'x * 2' });
    assert.match(textOf(answer), /^12\b/);
  });

  it('a client pinned to the 2026-07-28 revision is served per request (server/discover), same sessions', async () => {
    const modern = new Client({ name: 'modern', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } }));
    try {
      assert.equal(modern.getNegotiatedProtocolVersion(), '2026-07-28');
      assert.ok((await modern.listTools()).tools.some((tool) => tool.name === 'execute_code'));
      const answer = await call(modern, 'execute_code', { session_id: sessionId, code: 'x * 3' });
      assert.match(textOf(answer), /^18\b/);
    } finally {
      await modern.close();
    }
    // A client that negotiates finds server/discover answered and takes the newer revision.
    const auto = new Client({ name: 'auto', version: '0' }, { versionNegotiation: { mode: 'auto' } });
    await auto.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${server.token}` } } }));
    assert.equal(auto.getNegotiatedProtocolVersion(), '2026-07-28');
    assert.ok((await auto.listTools()).tools.length > 5);
    await auto.close();
  });

  it('the official client without the token is refused (invalid_token), and says so', async () => {
    const stranger = new Client({ name: 'stranger', version: '0' });
    await assert.rejects(
      stranger.connect(new StreamableHTTPClientTransport(new URL(server.url))),
      (error: Error & { code?: unknown; data?: { status?: number } }) => {
        assert.match(error.message, /invalid_token.*Missing Authorization header/);
        return true;
      },
    );
  });

  it('stdin closed is not an exit in HTTP mode; SIGTERM is, with the same clean-up as stdio', { timeout: 60_000 }, async () => {
    const status = await laptop.readResource({ uri: 'jlab-mcp://server/status' });
    const jupyterPid = JSON.parse(String((status.contents[0] as { text: string }).text)).server.backend.pid as number;
    const kernelPid = Number.parseInt(textOf(await call(laptop, 'execute_code', { session_id: sessionId, code: 'import os; print(os.getpid())' })), 10);
    assert.ok((await isAlive(jupyterPid)) && (await isAlive(kernelPid)));
    // The server was started with stdin closed and has served every test so far.
    const pid = server.child.pid!;
    assert.equal(await server.stop('SIGTERM'), 0);
    assert.deepEqual(await waitUntilGone([pid, jupyterPid, kernelPid], 25_000), []);
    assert.equal(server.stdout(), '');
  });
});
