import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRegistryContent } from '../../src/state/records.js';
import { SessionRegistry, readRegistry } from '../../src/state/registry.js';

/** Written by the version before the typed records (a614797's SessionRegistry, a local and a SLURM server, a running cell, a task). */
const PREVIOUS = new URL('./fixtures/registry-v1-previous.json', import.meta.url);

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A state directory holding `content` as its registry.json. */
async function stateDirWith(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-registry-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'registry.json'), content, { mode: 0o600 });
  return dir;
}

async function previousContent(): Promise<Record<string, any>> {
  return JSON.parse(await readFile(PREVIOUS, 'utf8')) as Record<string, any>;
}

describe('session registry file', () => {
  it('loads a registry written by the previous version, servers of each kind, sessions and tasks intact', async () => {
    const text = await readFile(PREVIOUS, 'utf8');
    const dir = await stateDirWith(text);
    const registry = await SessionRegistry.open(dir);
    try {
      assert.equal(registry.setAside, undefined);
      assert.deepEqual(registry.previous, JSON.parse(text));
      const gpu = registry.servers.gpu;
      assert.equal(gpu?.backend, 'slurm');
      assert.equal(gpu.backend === 'slurm' && gpu.jobId, '4711');
      const local = registry.servers.default;
      assert.equal(local?.backend === 'local' && local.pid, 424242);
      assert.deepEqual(registry.sessions.a1b2c3d4?.running, { msgId: 'msg-1', cellId: 'cell-1', startedAt: '2026-12-01T10:05:00.000Z' });
      assert.equal(registry.tasks['task-1']?.toolName, 'execute_code', 'a task keeps the fields its own module checks');
    } finally {
      await registry.flush(true);
    }
    assert.deepEqual((await readRegistry(dir))?.servers, JSON.parse(text).servers, 'rewritten as it was read');
  });

  it('loads a registry from before tasks existed', async () => {
    const content = await previousContent();
    delete content.tasks;
    const parsed = parseRegistryContent(content);
    assert.ok(parsed.ok);
    assert.equal(parsed.content.tasks, undefined);
  });

  for (const [what, spoil, field] of [
    ['a local server without its pid', (c: Record<string, any>) => delete c.servers.default.pid, /servers\.default\.pid/],
    ['a SLURM job id that is not digits', (c: Record<string, any>) => (c.servers.gpu.jobId = '4711; rm -rf ~'), /servers\.gpu\.jobId/],
    ['a backend kind it does not know', (c: Record<string, any>) => (c.servers.gpu.backend = 'kubernetes'), /servers\.gpu\.backend/],
    ['a session without its kernel', (c: Record<string, any>) => delete c.sessions.e5f6a7b8.kernelId, /sessions\.e5f6a7b8\.kernelId/],
    ['another version', (c: Record<string, any>) => (c.version = 2), /version/],
  ] as const) {
    it(`does not trust a file with ${what}: it is set aside, saying which field, and nothing is adopted`, async () => {
      const content = await previousContent();
      spoil(content);
      const parsed = parseRegistryContent(content);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.why, field);
      assert.match(parsed.ok ? '' : parsed.why, /not a jlab-mcp registry \(version 1\)/);

      const dir = await stateDirWith(JSON.stringify(content));
      assert.equal(await readRegistry(dir), undefined, 'connect does not use it either');
      const registry = await SessionRegistry.open(dir);
      try {
        assert.equal(registry.previous, undefined);
        assert.deepEqual(registry.servers, {});
        assert.match(String(registry.setAside), /registry\.json\.corrupt-\d+$/);
        assert.ok((await readdir(dir)).some((name) => name.startsWith('registry.json.corrupt-')));
      } finally {
        await registry.flush(true);
      }
    });
  }
});
