import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BearerProxy } from '../helpers/bearerProxy.js';
import { spawnHttpServer, type HttpSpawned } from '../helpers/httpServer.js';
import { REPO } from '../helpers/mcpClient.js';

const RUNNER = path.join(REPO, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const BASELINE = path.join(REPO, 'test', 'http', 'conformance-baseline.yml');
/** The list; each must pass, not merely be absent from the baseline. */
const REQUIRED = ['server-initialize', 'ping', 'tools-list', 'logging-set-level', 'dns-rebinding-protection'];

/** Scenario name → whether every check passed, from the runner's `-o` directory. */
async function outcomes(dir: string): Promise<Map<string, boolean>> {
  const result = new Map<string, boolean>();
  for (const entry of await readdir(dir)) {
    const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(entry)?.[1];
    if (!scenario) continue;
    const checks = JSON.parse(await readFile(path.join(dir, entry, 'checks.json'), 'utf8')) as Array<{ status: string }>;
    result.set(scenario, checks.length > 0 && checks.every((check) => check.status === 'SUCCESS' || check.status === 'INFO'));
  }
  return result;
}

describe('HTTP: @modelcontextprotocol/conformance 0.1.13 server scenarios', () => {
  let server: HttpSpawned;
  let proxy: BearerProxy;
  before(async () => {
    server = await spawnHttpServer();
    // The runner cannot send a header: the proxy adds the bearer token and changes nothing
    // else (Host and Origin pass through), so the real server is tested with its token check on.
    proxy = new BearerProxy(new URL(server.url), server.token);
    await proxy.start();
  });
  after(async () => {
    await proxy?.stop();
    await server?.stop();
  });

  it('the whole active suite: every scenario that applies passes, the rest are the baseline', { timeout: 240_000 }, async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'jlab-conformance-'));
    try {
      const run = await new Promise<{ code: number; output: string }>((resolve) =>
        execFile(
          process.execPath,
          [RUNNER, 'server', '--url', proxy.url(), '--expected-failures', BASELINE, '-o', out],
          { timeout: 200_000, maxBuffer: 64 << 20 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
        ),
      );
      const results = await outcomes(out);
      const passed = [...results].filter(([, ok]) => ok).map(([name]) => name);
      console.log(`conformance: passed ${passed.length}/${results.size}: ${passed.join(', ')}`);
      for (const scenario of REQUIRED) assert.equal(results.get(scenario), true, `${scenario} must pass\n${run.output.slice(-4000)}`);
      assert.equal(run.code, 0, `unexpected failures or a stale baseline:\n${run.output.slice(-4000)}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
