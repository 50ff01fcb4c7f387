// JLAB_MCP_TOOLS: which tools a server registers, and a wrong value stopping the start.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createApp } from '../../src/app.js';
import { loadConfig, parseArgs } from '../../src/config/load.js';
import { CORE_TOOLS, selectTools } from '../../src/mcp/tools/toolProfile.js';
import { JlabError } from '../../src/util/errors.js';
import { startInProcessServer } from '../helpers/serverHandles.js';

const KNOWN = ['start_new_session', 'execute_code', 'run_cell', ...CORE_TOOLS.filter((name) => name !== 'start_new_session' && name !== 'execute_code')];

describe('JLAB_MCP_TOOLS', () => {
  it('selects all, core, or the names of a comma list (in which core stands for the core tools)', () => {
    assert.deepEqual([...selectTools('all', KNOWN)], KNOWN);
    assert.deepEqual([...selectTools(' core ', KNOWN)].sort(), [...CORE_TOOLS].sort());
    assert.deepEqual([...selectTools('execute_code, run_cell,', KNOWN)], ['execute_code', 'run_cell']);
    assert.deepEqual([...selectTools('core,run_cell', KNOWN)].sort(), [...CORE_TOOLS, 'run_cell'].sort());
  });

  it('refuses an unknown name, or none, naming the tools there are', () => {
    for (const [value, problem] of [
      ['execute_code,exec_code', /unknown tool exec_code\./],
      [' , ', /no tool named/],
    ] as const) {
      assert.throws(
        () => selectTools(value, KNOWN),
        (error: unknown) =>
          error instanceof JlabError &&
          error.code === 'CONFIG_INVALID' &&
          problem.test(error.message) &&
          error.message.includes(`Give all, core, or a comma list of: ${KNOWN.join(', ')}.`),
      );
    }
  });

  it('registers only the tools named: the others are neither listed nor callable', async () => {
    const server = await startInProcessServer({ JLAB_MCP_TOOLS: 'start_new_session, execute_code,list_kernels' });
    try {
      const { tools } = await server.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['execute_code', 'list_kernels', 'start_new_session']);
      await assert.rejects(server.client.callTool({ name: 'run_cell', arguments: { session_id: 'x', cell_index: 0 } }), /run_cell not found/);
    } finally {
      await server.close();
    }
  });

  it('stops the start of the app with the known names when a name is wrong', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-tools-'));
    after(() => rm(dir, { recursive: true, force: true }));
    const config = loadConfig(parseArgs(['--tools', 'core,bogus']), { JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: dir, JLAB_MCP_STATE_DIR: dir });
    await assert.rejects(createApp(config, { version: '0.0.0', registry: false }), (error: unknown) => {
      assert.ok(error instanceof JlabError && error.code === 'CONFIG_INVALID', String(error));
      assert.match(error.message, /^JLAB_MCP_TOOLS: unknown tool bogus\. Give all, core, or a comma list of: start_new_session, .*read_notebook/);
      return true;
    });
  });
});
