import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { CLI, REPO } from '../helpers/mcpClient.js';
import { pidsMatching } from '../helpers/processes.js';
import { waitUntil } from '../helpers/poll.js';
import { validateWithPython } from '../helpers/validateNotebook.js';

const run = promisify(execFile);
const INSPECTOR = path.join(REPO, 'node_modules', '@modelcontextprotocol', 'inspector', 'cli', 'build', 'cli.js');

/** An independent client: the MCP Inspector CLI, one process per call. */
async function inspector(notebookDir: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    process.execPath,
    [
      INSPECTOR,
      '--cli',
      process.execPath,
      CLI,
      '-e',
      `JLAB_MCP_NOTEBOOK_DIR=${notebookDir}`,
      '-e',
      'JLAB_MCP_LOG_LEVEL=warn',
      '-e',
      'JLAB_MCP_RUN_MODE=local',
      ...args,
    ],
    {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('MCP Inspector CLI', () => {
  it('lists the tools and starts a session that writes a valid notebook, then leaves nothing running', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-inspector-'));
    const tools = (await inspector(dir, '--method', 'tools/list')).tools as Array<{ name: string }>;
    assert.ok(tools.some((tool) => tool.name === 'execute_code'));
    const started = await inspector(dir, '--method', 'tools/call', '--tool-name', 'start_new_session', '--tool-arg', 'experiment_name=inspected');
    const structured = started.structuredContent as { notebook_path: string; session_id: string };
    assert.equal(structured.notebook_path, path.join(dir, 'inspected.ipynb'));
    assert.deepEqual(await readdir(dir), ['inspected.ipynb']);
    await validateWithPython([structured.notebook_path]);
    // The CLI closes stdin on exit; give our shutdown (kernels, then Jupyter) a bounded moment.
    let leftovers: number[] = [];
    const noneLeft = async () => (leftovers = await pidsMatching(dir)).length === 0;
    await waitUntil('no process left for this notebook dir', noneLeft, { timeoutMs: 10_000, detail: () => `still running: ${leftovers.join(', ')}` });
  });
});
