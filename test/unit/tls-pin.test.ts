// Certificate pinning against a real TLS server on 127.0.0.1 (certificate made by openssl, as a job does).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { endpointFetch, serverSettings } from '../../src/jupyter/endpoint.js';
import { CertificatePinError, fetchThroughAgent, isCertificatePinError, normalizeFingerprint, pinnedAgent } from '../../src/jupyter/pinnedTls.js';
import { fetchWithDeadline, RequestTimeoutError } from '../../src/jupyter/requestDeadline.js';

const HEX = 'ab'.repeat(32);
const CANON = Array(32).fill('AB').join(':');

describe('normalizeFingerprint', () => {
  const rows: [string, string | undefined, string | undefined][] = [
    ['Node fingerprint256', CANON, CANON],
    ['openssl 3 output', `sha256 Fingerprint=${CANON.toLowerCase()}`, CANON],
    ['openssl 1.x output', `SHA256 Fingerprint=${CANON}\n`, CANON],
    ['64 bare hex digits', HEX, CANON],
    ['too short', CANON.slice(3), undefined],
    ['SHA-1 length', Array(20).fill('AB').join(':'), undefined],
    ['not hex', CANON.replace('AB', 'ZZ'), undefined],
    ['odd colons', `${HEX.slice(0, 3)}:${HEX.slice(3)}`, undefined],
    ['empty', '', undefined],
    ['undefined', undefined, undefined],
  ];
  for (const [name, input, expected] of rows)
    it(`${name} → ${expected === undefined ? 'undefined' : 'canonical'}`, () => assert.equal(normalizeFingerprint(input), expected));
});

describe('pinned TLS (REST and websocket)', () => {
  let dir: string;
  let server: https.Server;
  let wss: WebSocketServer;
  let port: number;
  let fingerprint: string;
  const seen = { requests: 0, upgrades: 0, auth: [] as string[] };
  const wrong = CANON;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-tls-'));
    const key = path.join(dir, 'tls.key');
    const cert = path.join(dir, 'tls.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=node1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    const certPem = await readFile(cert);
    fingerprint = normalizeFingerprint(new X509Certificate(certPem).fingerprint256)!;
    assert.notEqual(fingerprint, wrong);
    server = https.createServer({ key: await readFile(key), cert: certPem }, (req, res) => {
      seen.requests++;
      seen.auth.push(String(req.headers.authorization));
      if (req.url === '/stall') return; // never answers
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, body }));
      });
    });
    wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      seen.upgrades++;
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(`echo:${String(data)}`)));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a REST request with the pinned fingerprint gets its answer (body both ways, token header sent)', async () => {
    const f = fetchThroughAgent(pinnedAgent(fingerprint, 5000));
    const response = await f(`https://127.0.0.1:${port}/api/x`, { method: 'POST', body: '{"a":1}', headers: { Authorization: 'token t-123' } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { method: 'POST', body: '{"a":1}' });
    assert.equal(seen.auth.at(-1), 'token t-123');
  });

  it('[fault] a certificate other than the pinned one → CertificatePinError, and not one request reached the server', async () => {
    const before = seen.requests;
    const f = fetchThroughAgent(pinnedAgent(wrong, 5000));
    await assert.rejects(f(`https://127.0.0.1:${port}/api/x`, { headers: { Authorization: 'token secret-abc' } }), (error: unknown) => {
      assert.ok(error instanceof CertificatePinError);
      assert.match(error.message, /not the pinned .* intercepted/);
      assert.ok(error.message.includes(fingerprint), 'names the fingerprint presented');
      assert.ok(!error.message.includes('secret-abc'));
      return true;
    });
    assert.equal(seen.requests, before);
  });

  it('[fault] the pin holds through @jupyterlab/services settings: its fetch fails with the pin error, the token never sent', async () => {
    const before = seen.requests;
    const settings = serverSettings({ baseUrl: `https://127.0.0.1:${port}/`, token: 'tok-xyz-123', certFingerprint: wrong, requestTimeoutMs: 5000 });
    await assert.rejects(settings.fetch(`https://127.0.0.1:${port}/api/status`, {}), (error: unknown) => isCertificatePinError(error));
    assert.equal(seen.requests, before);
    const ok = serverSettings({ baseUrl: `https://127.0.0.1:${port}/`, token: 'tok-xyz-123', certFingerprint: fingerprint, requestTimeoutMs: 5000 });
    const response = await ok.fetch(`https://127.0.0.1:${port}/api/status`, { headers: { Authorization: 'token tok-xyz-123' } });
    assert.equal(response.status, 200);
  });

  it('[fault] a pinned server that accepts the request and never answers → TIMEOUT at the request deadline', async () => {
    const f = fetchWithDeadline(`https://127.0.0.1:${port}/`, 500, fetchThroughAgent(pinnedAgent(fingerprint, 5000)));
    await assert.rejects(f(`https://127.0.0.1:${port}/stall`), (error: unknown) => error instanceof RequestTimeoutError);
  });

  it('the websocket opens through the pinned agent and carries messages', async () => {
    const settings = serverSettings({ baseUrl: `https://127.0.0.1:${port}/`, token: 'tok-ws-1234', certFingerprint: fingerprint, requestTimeoutMs: 5000 });
    assert.ok(settings.wsUrl.startsWith('wss://'));
    const ws = new settings.WebSocket(`${settings.wsUrl}ws`) as unknown as WebSocket;
    await once(ws, 'open');
    ws.send('hi');
    const [data] = (await once(ws, 'message')) as [Buffer];
    assert.equal(String(data), 'echo:hi');
    ws.close();
  });

  it('[fault] a websocket to a certificate other than the pinned one fails with the pin error, no upgrade request sent', async () => {
    const before = seen.upgrades;
    const settings = serverSettings({ baseUrl: `https://127.0.0.1:${port}/`, token: 'tok-ws-1234', certFingerprint: wrong, requestTimeoutMs: 5000 });
    const ws = new settings.WebSocket(`${settings.wsUrl}ws`) as unknown as WebSocket;
    const [error] = (await once(ws, 'error').catch((e: unknown) => [e])) as [Error];
    assert.ok(isCertificatePinError(error), String(error));
    assert.equal(seen.upgrades, before);
  });

  it('[fault] plain HTTP to the TLS port gets no answer (the request fails)', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/x`, { signal: AbortSignal.timeout(5000) }));
  });

  it("an endpoint without a fingerprint keeps Node's own fetch; a fingerprint on an http URL is refused", () => {
    assert.equal(endpointFetch({ baseUrl: 'http://127.0.0.1:1/', token: 'x' }), fetch);
    assert.throws(() => endpointFetch({ baseUrl: 'http://127.0.0.1:1/', token: 'x', certFingerprint: fingerprint }), /not an https URL/);
    assert.throws(() => pinnedAgent('nonsense', 1000), /Not a SHA-256 certificate fingerprint/);
  });
});
