import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isLoopback, parseListenAddress } from '../../src/mcp/http/address.js';
import { allowlistFor, refuseForeign } from '../../src/mcp/http/allowlist.js';
import { bearerGate } from '../../src/mcp/http/bearer.js';
import { loadOrCreateToken } from '../../src/mcp/http/tokenFile.js';

describe('HTTP pieces: --http [host:]port', () => {
  it('parses a port, host:port and [ipv6]:port; the host defaults to 127.0.0.1', () => {
    assert.deepEqual(parseListenAddress('8765'), { host: '127.0.0.1', port: 8765 });
    assert.deepEqual(parseListenAddress('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
    assert.deepEqual(parseListenAddress('login1.cluster:9000'), { host: 'login1.cluster', port: 9000 });
    assert.deepEqual(parseListenAddress('[::1]:8765'), { host: '::1', port: 8765 });
  });

  it('[bad-input] refuses what is not [host:]port, with an example', () => {
    for (const text of ['', 'http://x:1', 'host:', '70000', '::1:80', 'a b:1']) {
      assert.throws(
        () => parseListenAddress(text),
        (error: Error & { code?: string; hint?: string }) => error.code === 'CONFIG_INVALID' && /--http 127\.0\.0\.1:0/.test(error.hint ?? ''),
        text,
      );
    }
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopback(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'login1']) assert.ok(!isLoopback(host), host);
  });
});

describe('HTTP pieces: Host and Origin allowlists', () => {
  const request = (headers: Record<string, string>) => new Request('http://localhost/mcp', { method: 'POST', headers });

  it('loopback names always, the bound name, and the settings (lower-cased); a wildcard bind adds none', () => {
    const allow = allowlistFor({ host: 'Login1', port: 1 }, 'a.example, B.example', 'app.example.org');
    assert.deepEqual(allow.hosts, ['localhost', '127.0.0.1', '[::1]', 'login1', 'a.example', 'b.example']);
    assert.deepEqual(allow.origins, ['localhost', '127.0.0.1', '[::1]', 'app.example.org']);
    assert.deepEqual(allowlistFor({ host: '0.0.0.0', port: 1 }, undefined, undefined).hosts, ['localhost', '127.0.0.1', '[::1]']);
    assert.deepEqual(allowlistFor({ host: '::1', port: 1 }, undefined, undefined).hosts, ['localhost', '127.0.0.1', '[::1]']);
  });

  it('refuses a foreign Host or Origin with 403; passes loopback ones and a missing Origin', () => {
    const allow = allowlistFor({ host: '127.0.0.1', port: 8765 }, undefined, undefined);
    assert.equal(refuseForeign(request({ host: 'evil.example:8765' }), allow)?.status, 403);
    assert.equal(refuseForeign(request({ host: 'localhost:8765', origin: 'http://evil.example' }), allow)?.status, 403);
    assert.equal(refuseForeign(request({ host: 'localhost:8765', origin: 'null' }), allow)?.status, 403);
    assert.equal(refuseForeign(request({ host: '127.0.0.1:8765' }), allow), undefined);
    assert.equal(refuseForeign(request({ host: '[::1]:8765', origin: 'http://localhost:3000' }), allow), undefined);
  });
});

describe('HTTP pieces: the bearer gate', () => {
  const token = 'c'.repeat(64);
  const gate = bearerGate(token);
  const withAuth = (authorization?: string) => new Request('http://localhost/mcp', { headers: authorization ? { authorization } : {} });

  it('the right token → AuthInfo with an expiry (the SDK requires one)', async () => {
    const auth = await gate(withAuth(`Bearer ${token}`));
    assert.ok(!(auth instanceof Response));
    assert.ok(auth.expiresAt! > Date.now() / 1000);
  });

  it('missing, wrong, shorter, longer or another scheme → 401 with a Bearer challenge', async () => {
    for (const header of [undefined, `Bearer ${'d'.repeat(64)}`, `Bearer ${token.slice(1)}`, `Bearer ${token}x`, `Basic ${token}`]) {
      const answer = await gate(withAuth(header));
      assert.ok(answer instanceof Response, String(header));
      assert.equal(answer.status, 401);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.ok(!(await answer.text()).includes(token));
    }
  });
});

describe('HTTP pieces: the token file', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const tmp = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-token-'));
    dirs.push(dir);
    return dir;
  };

  it('made once (64 hex digits, 0600, in a 0700 directory it creates), then read back as it is', async () => {
    const file = path.join(await tmp(), 'state', 'http-token');
    const made = await loadOrCreateToken(file);
    assert.equal(made.created, true);
    assert.match(made.token, /^[0-9a-f]{64}$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    assert.equal((await readFile(file, 'utf8')).trim(), made.token);
    assert.deepEqual(await loadOrCreateToken(file), { token: made.token, created: false });
  });

  it('[bad-input] a file others can read, or without a real token, is refused with the fix', async () => {
    const dir = await tmp();
    const open = path.join(dir, 'open');
    await writeFile(open, `${'e'.repeat(64)}\n`);
    await chmod(open, 0o640);
    await assert.rejects(
      loadOrCreateToken(open),
      (error: Error & { hint?: string }) => /mode 640/.test(error.message) && /chmod 600/.test(error.hint ?? '') && !error.message.includes('e'.repeat(64)),
    );
    const short = path.join(dir, 'short');
    await writeFile(short, 'secret\n', { mode: 0o600 });
    await assert.rejects(loadOrCreateToken(short), /at least 32 characters/);
  });
});
