// JLAB_MCP_TOOLS through the built binary and the official client: the core profile lists the
// core tools; a wrong name ends the start with the names there are, before any client is served.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CORE_TOOLS } from '../../src/mcp/tools/toolProfile.js';
import { CLI, missingBuildReason, spawnServer } from '../helpers/mcpClient.js';

describe('JLAB_MCP_TOOLS (built binary)', { skip: missingBuildReason(), timeout: 60_000 }, () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('core: tools/list holds the core tools and nothing else', async () => {
    const server = await spawnServer({ JLAB_MCP_TOOLS: 'core' });
    dirs.push(server.notebookDir);
    try {
      const { tools } = await server.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), [...CORE_TOOLS].sort());
    } finally {
      await server.close();
    }
  });

  it('an unknown tool name: exit code 2 and the names there are on stderr', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-tools-'));
    dirs.push(dir);
    const run = spawnSync(process.execPath, [CLI, '--tools', 'core,exec_code'], {
      env: { ...process.env, JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: dir, JLAB_MCP_STATE_DIR: dir },
      input: '',
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, '', 'nothing but the protocol on stdout');
    assert.match(
      run.stderr,
      /JLAB_MCP_TOOLS: unknown tool exec_code\. Give all, core, or a comma list of: start_new_session, .*execute_code.*read_notebook.*list_sweeps\./,
    );
  });
});
