import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, missingBuildReason, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { suggestedCallsIn, type SuggestedCall } from '../helpers/suggestedCalls.js';

/*
 * Every kind of suggested next call jlab-mcp writes — in error hints, in cell notes and footers,
 * in replay messages, in list_sessions — provoked for real and then followed literally: the
 * call is parsed out of the text and made with exactly those arguments, and it must work.
 * (The SLURM walltime notes are followed in the slurm tier, which the lead runs.)
 */

const skip = missingBuildReason();
const STUBBORN = 'import time\nprint("stubborn", flush=True)\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass';

describe('every suggested next call, followed literally, works', { skip }, () => {
  let server: Spawned;
  let stateDir = '';
  /** Every call followed, for the summary at the end. */
  const followed: string[] = [];

  before(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-suggested-state-'));
    server = await spawnServer({ JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_INTERRUPT_GRACE: '1', JLAB_MCP_LOG_LEVEL: 'warn' });
  });
  after(async () => {
    await server?.close();
  });

  const tool = (name: string, args: Record<string, unknown>, timeoutMs = 120_000) => call(server.client, name, args, timeoutMs);

  async function start(name: string): Promise<{ sid: string; notebook: string }> {
    const started = await tool('start_new_session', { experiment_name: name }, 180_000);
    assert.notEqual(started.isError, true, textOf(started));
    return { sid: String(started.structuredContent?.session_id), notebook: String(started.structuredContent?.notebook_path) };
  }

  /**
   * Makes every call `text` suggests, in order, exactly as written; each must succeed. Returns
   * the results, so a caller can tidy up (shut down a session a followed resume opened).
   */
  async function follow(text: string, expected: string[]): Promise<Array<{ call: SuggestedCall; result: ToolResult }>> {
    const calls = suggestedCallsIn(text);
    assert.deepEqual(
      calls.map((each) => each.tool),
      expected,
      `the calls suggested in:\n${text}`,
    );
    const results = [];
    for (const each of calls) {
      const result = await tool(each.tool, each.args, 180_000);
      // A refusal carries no structuredContent; a cell that ended badly (killed by the forced restart) is an answer, not a refusal.
      assert.ok(result.isError !== true || result.structuredContent, `following ${each.written} literally failed:\n${textOf(result)}`);
      followed.push(each.written);
      results.push({ call: each, result });
    }
    return results;
  }

  /** Shuts down the sessions that followed start_* calls opened, so their notebooks are free again. */
  async function closeOpened(results: Array<{ call: SuggestedCall; result: ToolResult }>): Promise<void> {
    for (const { call: made, result } of results) {
      if (!made.tool.startsWith('start_')) continue;
      const shut = await tool('shutdown_session', { session_id: String(result.structuredContent?.session_id) });
      assert.notEqual(shut.isError, true, textOf(shut));
    }
  }

  it('a cell still running at the timeout: wait_for_cell and interrupt_kernel', async () => {
    const { sid } = await start('still running');
    const running = await tool('execute_code', { session_id: sid, code: 'import time\ntime.sleep(2)\nprint("done")', timeout: 0.5 });
    assert.equal(running.structuredContent?.status, 'running');
    await follow(textOf(running), ['wait_for_cell', 'interrupt_kernel']);
    await tool('shutdown_session', { session_id: sid });
  });

  it('a queued cell: wait_for_cell and interrupt_kernel', async () => {
    const { sid } = await start('queued');
    await tool('execute_code', { session_id: sid, code: 'import time\ntime.sleep(2)', timeout: 0 });
    const queued = await tool('execute_code', { session_id: sid, code: 'print("after")', timeout: 0 });
    assert.equal(queued.structuredContent?.status, 'queued');
    await follow(textOf(queued), ['wait_for_cell', 'interrupt_kernel']);
    await tool('shutdown_session', { session_id: sid });
  });

  it('KERNEL_UNAVAILABLE while a cell runs: wait_for_cell and interrupt_kernel', async () => {
    const { sid } = await start('busy');
    await tool('execute_code', { session_id: sid, code: 'import time\ntime.sleep(3)', timeout: 0.5 });
    const busy = await tool('inspect_variables', { session_id: sid });
    assert.match(textOf(busy), /^Error \[KERNEL_UNAVAILABLE\]/);
    await follow(textOf(busy), ['wait_for_cell', 'interrupt_kernel']);
    await tool('shutdown_session', { session_id: sid });
  });

  it('a cell that ignores the interrupt: interrupt_kernel(force=true) and wait_for_cell', async () => {
    const { sid } = await start('stubborn');
    await tool('execute_code', { session_id: sid, code: STUBBORN, timeout: 1 });
    const soft = await tool('interrupt_kernel', { session_id: sid });
    assert.equal(soft.structuredContent?.state, 'still_busy', textOf(soft));
    // A JSON result's text is the object as JSON: its message, as the agent reads it, is the field.
    const [forced] = await follow(String(soft.structuredContent?.message), ['interrupt_kernel', 'wait_for_cell']);
    assert.equal(forced!.result.structuredContent?.state, 'restarted');
    await tool('shutdown_session', { session_id: sid });
  });

  it('a replay that goes on in the background: wait_for_cell and interrupt_kernel', async () => {
    const { sid, notebook } = await start('replay');
    await tool('execute_code', { session_id: sid, code: 'import time\ntime.sleep(2)' });
    await tool('shutdown_session', { session_id: sid });
    const resumed = await tool('start_session_resume_notebook', { notebook_path: notebook, timeout: 0 }, 180_000);
    assert.equal((resumed.structuredContent?.replay as { status: string }).status, 'running', textOf(resumed));
    await follow(String(resumed.structuredContent?.message), ['wait_for_cell', 'interrupt_kernel']);
    await tool('shutdown_session', { session_id: String(resumed.structuredContent?.session_id) });
  });

  it('SHUTTING_DOWN: the resume call, once the shutdown is done', async () => {
    const { sid } = await start('shutting down');
    const [down, during] = await Promise.all([tool('shutdown_session', { session_id: sid }), tool('execute_code', { session_id: sid, code: '1' })]);
    assert.notEqual(down.isError, true, textOf(down));
    assert.match(textOf(during), /^Error \[SHUTTING_DOWN\]/);
    await closeOpened(await follow(textOf(during), ['start_session_resume_notebook']));
  });

  it('a kernel deleted from outside: shutdown_session, then the resume call', async () => {
    const { sid } = await start('deleted kernel');
    await tool('execute_code', { session_id: sid, code: 'x = 1' });
    const registry = JSON.parse(await readFile(path.join(stateDir, 'registry.json'), 'utf8'));
    const jupyter = registry.servers.default;
    const token = (await readFile(jupyter.tokenFile, 'utf8')).trim();
    const deleted = await fetch(new URL(`api/kernels/${registry.sessions[sid].kernelId}`, jupyter.baseUrl), {
      method: 'DELETE',
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(deleted.status, 204);
    let refused: ToolResult | undefined;
    // The first call may be the one that finds out (a cell ended by the loss); the next one is refused with the hint.
    for (let attempt = 0; attempt < 5 && !/^Error \[KERNEL_DIED\]/.test(refused ? textOf(refused) : ''); attempt++) {
      refused = await tool('execute_code', { session_id: sid, code: '1', timeout: 30 });
      assert.equal(refused.isError, true, textOf(refused));
    }
    assert.match(textOf(refused!), /^Error \[KERNEL_DIED\]/);
    await closeOpened(await follow(textOf(refused!), ['shutdown_session', 'start_session_resume_notebook']));
  });

  it('a session that did not survive a restart of jlab-mcp: the hint and list_sessions each name a resume call that works', async () => {
    // A second jlab-mcp on the same state dir, so the first one's sessions can be left behind.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-suggested-gone-'));
    const goneState = await mkdtemp(path.join(os.tmpdir(), 'jlab-suggested-gone-state-'));
    const first = await spawnServer({ JLAB_MCP_STATE_DIR: goneState, JLAB_MCP_ON_EXIT: 'keep', JLAB_MCP_LOG_LEVEL: 'warn' }, dir);
    const started = await call(first.client, 'start_new_session', { experiment_name: 'left behind' }, 180_000);
    const sid = String(started.structuredContent?.session_id);
    await first.close();
    const registry = JSON.parse(await readFile(path.join(goneState, 'registry.json'), 'utf8'));
    const jupyter = registry.servers.default;
    const token = (await readFile(jupyter.tokenFile, 'utf8')).trim();
    assert.equal(
      (
        await fetch(new URL(`api/kernels/${registry.sessions[sid].kernelId}`, jupyter.baseUrl), {
          method: 'DELETE',
          headers: { Authorization: `token ${token}` },
        })
      ).status,
      204,
    );

    const second = await spawnServer({ JLAB_MCP_STATE_DIR: goneState, JLAB_MCP_LOG_LEVEL: 'warn' }, dir);
    try {
      const goOn = async (text: string) => {
        const calls = suggestedCallsIn(text);
        assert.deepEqual(
          calls.map((each) => each.tool),
          ['start_session_resume_notebook'],
          text,
        );
        const resumed = await call(second.client, calls[0]!.tool, calls[0]!.args, 180_000);
        assert.notEqual(resumed.isError, true, `following ${calls[0]!.written} literally failed:\n${textOf(resumed)}`);
        followed.push(calls[0]!.written);
        await call(second.client, 'shutdown_session', { session_id: String(resumed.structuredContent?.session_id) });
      };
      const refused = await call(second.client, 'execute_code', { session_id: sid, code: '1' });
      assert.match(textOf(refused), /^Error \[SERVER_LOST\]/);
      await goOn(textOf(refused));
      const listed = await call(second.client, 'list_sessions');
      const gone = listed.structuredContent?.gone_sessions as Array<{ session_id: string; resume: string }>;
      assert.equal(gone[0]?.session_id, sid);
      await goOn(gone[0]!.resume);
    } finally {
      await second.close();
    }
  });

  it('a Jupyter server lost under a running cell: the note, the SERVER_LOST hints of execute_code and inspect_variables', async () => {
    const { sid } = await start('server lost');
    const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
    const jupyterPid = JSON.parse(String((status.contents[0] as { text: string }).text)).server.backend.pid as number;
    await tool('execute_code', { session_id: sid, code: 'import time\ntime.sleep(30)', timeout: 0.5 });
    process.kill(jupyterPid, 'SIGKILL');
    const ended = await tool('wait_for_cell', { session_id: sid, timeout: 60 });
    assert.equal(ended.isError, true, textOf(ended));
    const hints = [textOf(ended)];
    for (const [name, args] of [
      ['execute_code', { session_id: sid, code: '1' }],
      ['inspect_variables', { session_id: sid }],
    ] as const) {
      const refused = await tool(name, args);
      assert.match(textOf(refused), /^Error \[SERVER_LOST\]/, `${name}: ${textOf(refused)}`);
      hints.push(textOf(refused));
    }
    // Each names the same resume; following one opens the notebook, so each is followed and closed in turn.
    for (const text of hints) await closeOpened(await follow(text, ['start_session_resume_notebook']));
    await tool('shutdown_session', { session_id: sid });
  });

  it('followed every kind', () => {
    const kinds = new Set(followed.map((written) => written.replace(/\(.*$/s, '') + (written.includes('force=true') ? '(force)' : '')));
    assert.deepEqual([...kinds].sort(), ['interrupt_kernel', 'interrupt_kernel(force)', 'shutdown_session', 'start_session_resume_notebook', 'wait_for_cell']);
  });
});
