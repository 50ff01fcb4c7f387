import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpClient, spawnHttpServer, type HttpSpawned } from '../helpers/httpServer.js';
import { call, textOf } from '../helpers/mcpClient.js';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One raw HTTP request (node:http, so Host can be set at will), body read to its end or for
 * 300 ms at most (an SSE answer stays open).
 */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean }): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...options.headers },
      },
      (res) => {
        let body = '';
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        const cut = setTimeout(() => {
          res.destroy();
          done();
        }, 300);
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          clearTimeout(cut);
          done();
        });
      },
    );
    req.on('error', reject);
    if (options.chunked && options.body) {
      // No Content-Length: the size is only known while reading.
      const data = Buffer.from(options.body);
      for (let at = 0; at < data.length; at += 16_384) req.write(data.subarray(at, at + 16_384));
      req.end();
    } else req.end(options.body);
  });
}

describe('HTTP: bearer token, Host/Origin allowlist, body limit', () => {
  let server: HttpSpawned;
  let bearer: Record<string, string>;
  before(async () => {
    server = await spawnHttpServer({ JLAB_MCP_HTTP_MAX_BODY: '65536', JLAB_MCP_HTTP_ALLOWED_ORIGINS: 'app.example.org' });
    bearer = { authorization: `Bearer ${server.token}` };
  });
  after(async () => {
    assert.equal(await server?.stop(), 0, 'SIGTERM: a clean exit');
  });

  it('the generated token: 64 hex digits in a 0600 file, never in the log or on stdout', async () => {
    assert.match(server.token, /^[0-9a-f]{64}$/);
    assert.equal((await stat(server.tokenFile)).mode & 0o777, 0o600);
    assert.ok(server.stderr().includes(server.tokenFile), 'the log names the token file');
    assert.ok(server.stderr().includes(server.url), 'the log gives the URL');
    assert.ok(!server.stderr().includes(server.token), 'the token is not in the log');
    assert.equal(server.stdout(), '', 'nothing on stdout in HTTP mode');
  });

  it('no token → 401 with a Bearer challenge; a wrong one, or another scheme → 401', async () => {
    const none = await send(server.url, { body: INITIALIZE });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer /);
    const wrongSameLength = server.token.slice(0, -1) + (server.token.endsWith('0') ? '1' : '0');
    for (const authorization of [
      `Bearer ${wrongSameLength}`,
      'Bearer short',
      `Basic ${Buffer.from(`u:${server.token}`).toString('base64')}`,
      `Bearer${server.token}`,
    ]) {
      const wrong = await send(server.url, { headers: { authorization }, body: INITIALIZE });
      assert.equal(wrong.status, 401, authorization.slice(0, 12));
      assert.ok(!wrong.body.includes(server.token));
    }
    // Every method, on any path, passes the same gates (the SSE GET, DELETE, a CORS preflight).
    const port = new URL(server.url).port;
    for (const method of ['GET', 'DELETE', 'OPTIONS', 'PUT']) {
      for (const url of [server.url, server.url.replace(/\/mcp$/, '/other')]) {
        assert.equal((await send(url, { method })).status, 401, `${method} ${url} without a token`);
        assert.equal((await send(url, { method, headers: { ...bearer, host: `evil.example.com:${port}` } })).status, 403, `${method} ${url} rebound`);
      }
    }
    // The refusals are logged without the token (it is never echoed).
    assert.match(server.stderr(), /refused with 401: wrong bearer token/);
    assert.ok(!server.stderr().includes(server.token));
  });

  it('the right token from a foreign Origin → 403; a listed or loopback Origin, or none, is served', async () => {
    for (const origin of ['http://evil.example.com', 'https://evil.example.com:443', 'null']) {
      const foreign = await send(server.url, { headers: { ...bearer, origin }, body: INITIALIZE });
      assert.equal(foreign.status, 403, origin);
      assert.ok(!foreign.headers['mcp-session-id'], 'no session for a foreign page');
    }
    for (const origin of ['http://localhost:6274', 'http://127.0.0.1', 'https://app.example.org']) {
      const ok = await send(server.url, { headers: { ...bearer, origin }, body: INITIALIZE });
      assert.equal(ok.status, 200, origin);
      assert.ok(ok.headers['mcp-session-id']);
    }
  });

  it('a foreign Host (DNS rebinding) → 403 even with the token; loopback names pass', async () => {
    const port = new URL(server.url).port;
    const rebound = await send(server.url, { headers: { ...bearer, host: `evil.example.com:${port}` }, body: INITIALIZE });
    assert.equal(rebound.status, 403);
    const local = await send(server.url, { headers: { ...bearer, host: `localhost:${port}` }, body: INITIALIZE });
    assert.equal(local.status, 200);
  });

  it('an oversized body → 413 before it is parsed, with or without Content-Length', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(70_000) } });
    assert.equal((await send(server.url, { headers: bearer, body: big })).status, 413);
    assert.equal((await send(server.url, { headers: bearer, body: big, chunked: true })).status, 413);
    // Just under the limit is an ordinary request.
    const fits = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x'.repeat(60_000), version: '0' } },
    });
    assert.equal((await send(server.url, { headers: bearer, body: fits })).status, 200);
  });

  it('MCP sessions are capped: past 64 the least recently used is closed (its client gets 404 and initializes again)', async () => {
    const ping = (id: string) =>
      send(server.url, {
        headers: { ...bearer, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
        body: '{"jsonrpc":"2.0","id":9,"method":"ping"}',
      });
    const open = async () => String((await send(server.url, { headers: bearer, body: INITIALIZE })).headers['mcp-session-id']);
    const first = await open();
    const kept = await open();
    for (let i = 0; i < 64; i++) {
      await open();
      // Used now and then: the least recently used is `first`, never `kept`.
      if (i % 16 === 0) assert.equal((await ping(kept)).status, 200);
    }
    assert.equal((await ping(first)).status, 404);
    assert.equal((await ping(kept)).status, 200);
  });

  it('an unknown MCP session → 404 (the client initializes again); another path → 404', async () => {
    assert.equal(
      (await send(server.url, { headers: { ...bearer, 'mcp-session-id': 'no-such-session' }, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' })).status,
      404,
    );
    assert.equal((await send(server.url.replace(/\/mcp$/, '/other'), { headers: bearer, body: INITIALIZE })).status, 404);
    // And a bad token is refused before the path is looked at: nothing tells a stranger what exists.
    assert.equal((await send(server.url.replace(/\/mcp$/, '/other'), { body: INITIALIZE })).status, 401);
  });
});

describe('HTTP: where the token comes from', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const tokenDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-http-token-'));
    dirs.push(dir);
    return dir;
  };

  it('an existing 0600 token file is used as it is (the laptop config survives restarts); JLAB_MCP_HTTP_TOKEN too', { timeout: 60_000 }, async () => {
    const dir = await tokenDir();
    const tokenFile = path.join(dir, 'token');
    const token = 'f'.repeat(20) + 'e'.repeat(30);
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const fromFile = await spawnHttpServer({ JLAB_MCP_HTTP_TOKEN_FILE: tokenFile });
    try {
      assert.equal(fromFile.token, token);
      const client = await httpClient(fromFile.url, token);
      assert.ok((await client.listTools()).tools.length > 5);
      await client.close();
      assert.ok(!fromFile.stderr().includes(token));
    } finally {
      await fromFile.stop();
    }
    const envToken = 'a'.repeat(48);
    const fromEnv = await spawnHttpServer({ JLAB_MCP_HTTP_TOKEN: envToken });
    try {
      const client = await httpClient(fromEnv.url, envToken);
      await client.ping();
      // Jupyter and its kernels inherit our environment: the token must not be there for a cell to print.
      const started = await call(client, 'start_new_session', { experiment_name: 'env token' });
      assert.equal(started.isError, undefined, textOf(started));
      const cell = await call(client, 'execute_code', {
        session_id: String(started.structuredContent?.session_id),
        code: 'import os; print(repr(os.environ.get("JLAB_MCP_HTTP_TOKEN")))',
      });
      assert.match(textOf(cell), /^None\b/, 'the kernel does not see the token');
      await client.close();
      assert.ok(!fromEnv.stderr().includes(envToken), 'an env token is not logged either');
    } finally {
      await fromEnv.stop();
    }
  });

  it('[bad-input] a token file others can read → no start, exit 2, the fix named', { timeout: 60_000 }, async () => {
    const dir = await tokenDir();
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, `${'b'.repeat(64)}\n`);
    await chmod(tokenFile, 0o644);
    await assert.rejects(spawnHttpServer({ JLAB_MCP_HTTP_TOKEN_FILE: tokenFile }), (error: Error) => {
      assert.match(error.message, /exited \(2\) before serving/);
      assert.match(error.message, /chmod 600/);
      assert.ok(!error.message.includes('b'.repeat(64)), 'the token is not echoed');
      return true;
    });
  });

  it('[bad-input] --http that is not [host:]port → exit 2 with an example', { timeout: 30_000 }, async () => {
    await assert.rejects(spawnHttpServer({}, ['--http', 'http://x:1']), /exited \(2\)[\s\S]*\[host:\]port/);
  });
});
