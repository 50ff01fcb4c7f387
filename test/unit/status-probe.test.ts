import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hubSpawnPending } from '../../src/backends/external/hubSpawn.js';
import { probeStatus } from '../../src/jupyter/statusProbe.js';

/** A local HTTP server whose answers the test sets per path; it records each request's Authorization header. */
async function answering(routes: Record<string, (response: http.ServerResponse) => void>) {
  const seen: Array<{ path: string; authorization?: string }> = [];
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    seen.push({ path, authorization: request.headers.authorization });
    (routes[path] ?? ((r: http.ServerResponse) => r.writeHead(404).end()))(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('probeStatus: what answers /api/status, and whether waiting can change it', () => {
  let other: Awaited<ReturnType<typeof answering>>;
  let server: Awaited<ReturnType<typeof answering>>;
  const token = 'probe-token-0123456789';

  before(async () => {
    other = await answering({ '/elsewhere/api/status': (r) => r.writeHead(200, { 'Content-Type': 'application/json' }).end('{}') });
    server = await answering({
      '/ok/api/status': (r) => r.writeHead(200, { 'Content-Type': 'application/json' }).end('{"kernels":0}'),
      '/html/api/status': (r) => r.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>welcome</html>'),
      '/hop/api/status': (r) => r.writeHead(302, { Location: '/ok/api/status' }).end(),
      '/away/api/status': (r) => r.writeHead(302, { Location: `${other.url}elsewhere/api/status` }).end(),
      '/login-hop/api/status': (r) => r.writeHead(302, { Location: '/hub/login?next=%2Fuser%2Fa%2Fapi%2Fstatus' }).end(),
      '/busy/api/status': (r) => r.writeHead(503).end(),
      '/not-hub/api/status': (r) => r.writeHead(424, { 'Content-Type': 'text/html' }).end('<html>failed dependency</html>'),
    });
  });
  after(async () => {
    await server.close();
    await other.close();
  });

  it('a JSON 200 is up, also after a redirect on the same origin', async () => {
    assert.deepEqual(await probeStatus(fetch, `${server.url}ok/`, token, 5000), { up: true });
    assert.deepEqual(await probeStatus(fetch, `${server.url}hop/`, token, 5000), { up: true });
  });

  it('a redirect to another origin is not followed, so the token never goes there', async () => {
    const probe = await probeStatus(fetch, `${server.url}away/`, token, 5000);
    assert.equal(probe.up === false && probe.why, 'not-jupyter');
    assert.equal(other.seen.length, 0);
  });

  it('a redirect to a login page is a rejected token; an HTML 200 is not Jupyter; a 503 may clear by waiting', async () => {
    const login = await probeStatus(fetch, `${server.url}login-hop/`, token, 5000);
    assert.deepEqual(login.up === false && [login.why, login.evidence], ['token', 'GET /api/status was sent to the login page /hub/login']);
    const html = await probeStatus(fetch, `${server.url}html/`, token, 5000);
    assert.match(html.up === false ? `${html.why}: ${html.words}` : 'up', /^not-jupyter: .*a page that is not Jupyter's \(text\/html\)/);
    const busy = await probeStatus(fetch, `${server.url}busy/`, token, 5000);
    assert.equal(busy.up === false && busy.why, 'http');
    assert.ok(
      server.seen.every((request) => request.authorization === `token ${token}`),
      'the token travels in the header on every hop',
    );
  });

  it("a 424 without JupyterHub's JSON message is the HTTP answer it is, not a network failure", async () => {
    const probe = await probeStatus(fetch, `${server.url}not-hub/`, token, 5000);
    assert.deepEqual(probe.up === false && [probe.why, probe.words], ['http', 'answered GET /api/status with HTTP 424']);
  });

  it('the hub API request stays on the origin of the URL, even when its path starts with //', async () => {
    // `//<host>/` at the start of a path is a protocol-relative reference: it must not pick the host.
    const port = new URL(other.url).port;
    const pending = await hubSpawnPending(fetch, `${server.url}/127.0.0.1:${port}/user/bob/`, token, 5000);
    assert.equal(pending, undefined);
    assert.equal(other.seen.length, 0, 'the token went to another origin');
  });
});
