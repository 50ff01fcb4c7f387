import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { TaskExecutionEvent, TaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import type { JsonValue } from '@modelcontextprotocol/ext-tasks/core';
import { textOf, type ToolResult } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { connectTasksClient, type Era, type TasksClient } from '../helpers/tasksClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { readCells } from '../helpers/notebookFile.js';
import { holdsWithin, waitUntil } from '../helpers/poll.js';

type Cell = { cell_type: string; source: string | string[]; outputs?: Array<{ output_type: string; text?: string; ename?: string }> };

const cellsOf = (notebook: string) => readCells<Cell>(notebook);

/** The task as tasks/get shows it once it is no longer working, or as last seen after 60 s. */
async function settledTask(client: TasksClient, taskId: string): Promise<Record<string, unknown> | undefined> {
  let task: Record<string, unknown> | undefined;
  await holdsWithin('the task settled', async () => (task = (await client.raw('tasks/get', { taskId })).result)?.status !== 'working', {
    timeoutMs: 60_000,
    intervalMs: 500,
  });
  return task;
}

/** Long work as MCP tasks, through the official ext-tasks client against the built binary. */
describe('MCP tasks (io.modelcontextprotocol/tasks, 2026-07-28; core tasks, 2025-11-25)', () => {
  const open: TasksClient[] = [];
  const pids: number[] = [];
  after(async () => {
    for (const client of open) await client.close().catch(() => {});
    assert.deepEqual(await waitUntilGone(pids, 30_000), [], 'no Jupyter left behind');
  });

  const connect = async (era: Era, env: Record<string, string> = {}, dir?: string) => {
    const client = await connectTasksClient(era, { JLAB_MCP_LOG_LEVEL: 'info', ...env }, dir);
    open.push(client);
    return client;
  };
  const startSession = async (client: TasksClient, name: string) => {
    const started = (await client.client.callTool({ name: 'start_new_session', arguments: { experiment_name: name } }, { timeout: 120_000 })) as ToolResult;
    assert.ok(!started.isError, textOf(started));
    const status = await client.client.readResource({ uri: 'jlab-mcp://server/status' });
    const pid = (JSON.parse(String((status.contents[0] as { text: string }).text)) as { server: { backend: { pid?: number } } }).server.backend.pid;
    if (pid) pids.push(pid);
    return { sid: String(started.structuredContent?.session_id), notebook: String(started.structuredContent?.notebook_path) };
  };
  /** Runs a tool as a task (the client opts in) and collects every task view until it settles. */
  const asTask = async (client: TasksClient, tool: string, args: Record<string, JsonValue>, onWorking?: (message: string) => void) => {
    const execution = await client.tasks.callTool(tool, args, { task: { preference: 'prefer' } });
    assert.equal(execution.kind, 'task', 'the call answers with a task handle');
    const messages: string[] = [];
    const { outcome } = await execution.settle({
      onEvent: (event: TaskExecutionEvent<unknown>) => {
        if (event.type !== 'task') return;
        assert.ok(event.task.retentionMs! > 0 && event.task.suggestedPollIntervalMs! > 0, 'ttlMs and pollIntervalMs are set');
        if (event.task.status === 'working' && event.task.statusMessage) {
          messages.push(event.task.statusMessage);
          onWorking?.(event.task.statusMessage);
        }
      },
    });
    return { execution, outcome: outcome as TaskOutcome<ToolResult>, messages };
  };

  it('v2: a 10 s cell as a task — working with the newest output line as status, then completed with what the plain call returns', async () => {
    const client = await connect('modern');
    assert.equal(client.client.getProtocolEra(), 'modern');
    assert.deepEqual(
      client.client.getServerCapabilities()?.extensions?.['io.modelcontextprotocol/tasks'],
      {},
      'the extension is advertised on server/discover',
    );
    const { sid, notebook } = await startSession(client, 'task10');
    const code = 'import time\nfor i in range(10):\n    print("epoch", i, flush=True)\n    time.sleep(1)\nprint("trained")';
    const { outcome, messages } = await asTask(client, 'execute_code', { session_id: sid, code });
    assert.ok(
      messages.some((message) => /cell 0 running \d+ s · epoch \d/.test(message)),
      `progress text in the status: ${messages.join(' | ')}`,
    );
    assert.equal(outcome.status, 'completed');
    const result = (outcome as { result: ToolResult }).result;
    assert.ok(!result.isError);
    assert.match(textOf(result), /epoch 9\ntrained[\s\S]*\[cell 0 \(id \w+\) · In \[1\] · ok/);
    assert.equal(result.structuredContent?.status, 'ok', 'the structured result of the plain call too');
    // The same call without opting in: today's behaviour, the partial output at the timeout.
    const plain = (await client.client.callTool({
      name: 'execute_code',
      arguments: { session_id: sid, code: 'time.sleep(3); print("late")', timeout: 0.5 },
    })) as ToolResult;
    assert.match(textOf(plain), /still running[\s\S]*wait_for_cell/);
    assert.match(textOf((await client.client.callTool({ name: 'wait_for_cell', arguments: { session_id: sid, timeout: 30 } })) as ToolResult), /late/);
    // An opted-in call that ends within one poll interval is answered directly, as the extension allows.
    const quick = await client.tasks.callTool('execute_code', { session_id: sid, code: 'print(6*7)' }, { task: { preference: 'prefer' } });
    assert.equal(quick.kind, 'immediate');
    const quickOutcome = (await quick.settle()).outcome as { status: string; result: ToolResult };
    assert.equal(quickOutcome.status, 'completed');
    assert.match(textOf(quickOutcome.result), /^42/);
    assert.equal((await cellsOf(notebook)).length, 3);
  });

  it('v2: tasks/cancel interrupts the kernel (KeyboardInterrupt in the notebook) and the next cell runs; an error cell completes with isError', async () => {
    const client = await connect('modern');
    const { sid, notebook } = await startSession(client, 'taskcancel');
    const execution = await client.tasks.callTool(
      'execute_code',
      { session_id: sid, code: 'import time\nprint("begun", flush=True)\ntime.sleep(120)' },
      { task: { preference: 'prefer' } },
    );
    assert.equal(execution.kind, 'task');
    for await (const event of execution.updates()) {
      if (event.type === 'task' && /begun/.test(event.task.statusMessage ?? '')) break;
    }
    await execution.cancel();
    const next = (await client.client.callTool({ name: 'execute_code', arguments: { session_id: sid, code: 'print("next")', timeout: 30 } })) as ToolResult;
    assert.match(textOf(next), /^next\n[\s\S]*· ok/, textOf(next));
    const cells = await cellsOf(notebook);
    assert.equal(cells[0]?.outputs?.find((output) => output.output_type === 'error')?.ename, 'KeyboardInterrupt', 'the interrupt is recorded');
    const after = await client.raw('tasks/get', { taskId: execution.handle!.taskId });
    assert.equal(after.result?.status, 'cancelled', JSON.stringify(after));

    // A cell queued behind a running one, cancelled before it ran: its task ends cancelled and it never runs.
    const blocker = await client.tasks.callTool('execute_code', { session_id: sid, code: 'time.sleep(60)' }, { task: { preference: 'prefer' } });
    const queued = await client.tasks.callTool('execute_code', { session_id: sid, code: 'print("never" * 2)' }, { task: { preference: 'prefer' } });
    assert.equal(queued.kind, 'task');
    await queued.cancel();
    const queuedView = await settledTask(client, queued.handle!.taskId);
    assert.equal(queuedView?.status, 'cancelled', JSON.stringify(queuedView));
    assert.equal((await client.raw('tasks/get', { taskId: blocker.handle!.taskId })).result?.status, 'working', 'the running cell is not the one interrupted');
    await blocker.cancel();
    assert.equal((await settledTask(client, blocker.handle!.taskId))?.status, 'cancelled');
    assert.doesNotMatch(JSON.stringify(await cellsOf(notebook)), /nevernever/, 'the cancelled cell never ran');

    // A cell that raises (after outlasting the first poll interval): the task completes with exactly what the plain call answers.
    const raised = await asTask(client, 'execute_code', { session_id: sid, code: 'time.sleep(2.5)\n1/0' });
    assert.equal(raised.outcome.status, 'completed', 'a failing cell is a completed task');
    const plainRaise = (await client.client.callTool({ name: 'execute_code', arguments: { session_id: sid, code: 'time.sleep(2.5)\n1/0' } })) as ToolResult;
    const taskRaise = (raised.outcome as { result: ToolResult }).result;
    assert.match(textOf(taskRaise), /ZeroDivisionError/);
    assert.equal(taskRaise.isError, plainRaise.isError);
    assert.deepEqual((taskRaise.structuredContent?.error as { ename: string }).ename, 'ZeroDivisionError');
    // A tool error (isError) is a completed result, never a failed task; answered at once, it is no task at all.
    const refused = await client.tasks.callTool('execute_code', { session_id: 'nosuchsession', code: '1' }, { task: { preference: 'prefer' } });
    assert.equal(refused.kind, 'immediate', 'work that ends within one poll interval is answered directly');
    const refusedOutcome = (await refused.settle()).outcome;
    assert.equal(refusedOutcome.status, 'completed');
    const refusedResult = (refusedOutcome as { result: ToolResult }).result;
    assert.equal(refusedResult.isError, true);
    assert.match(textOf(refusedResult), /UNKNOWN_SESSION/);
    const unknown = await client.raw('tasks/get', { taskId: 'no-such-task' });
    assert.equal(unknown.error?.code, -32602, 'an unknown task id is invalid params');
    const undeclared = await client.raw('tasks/get', { taskId: execution.handle!.taskId }, false);
    assert.equal(undeclared.error?.code, -32021, 'tasks/get needs the extension in the request capabilities');
    await validateWithPython([notebook]);
  });

  it('v1 (2025-11-25): a cell as a task with tasks/get + tasks/result; without preference the same call stays a plain call', async () => {
    const client = await connect('legacy');
    assert.equal(client.client.getProtocolEra(), 'legacy');
    const tools = await client.client.listTools();
    assert.equal(tools.tools.find((tool) => tool.name === 'execute_code')?.execution?.taskSupport, 'optional');
    const { sid } = await startSession(client, 'taskv1');
    await client.client.callTool({
      name: 'execute_code',
      arguments: { session_id: sid, code: 'import time\nfor i in range(4):\n    print("step", i, flush=True); time.sleep(1)' },
    });
    const { outcome, messages } = await asTask(client, 'run_cell', { session_id: sid, cell_index: 0 });
    assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
    assert.match(textOf((outcome as { result: ToolResult }).result), /step 3[\s\S]*· ok/);
    assert.ok(messages.length > 0);
    const listed = await client.raw('tasks/list', {});
    assert.equal((listed.result?.tasks as Array<{ status: string; pollInterval: number }>)[0]?.status, 'completed', JSON.stringify(listed));
    const plain = await client.tasks.callTool('execute_code', { session_id: sid, code: 'print(6*7)' });
    assert.equal(plain.kind, 'immediate', 'no task without opting in');
    const settled = await plain.settle();
    assert.match(textOf((settled.outcome as { result: ToolResult }).result), /^42/);
  });

  it('JLAB_MCP_TASKS=false: nothing advertised, an opted-in call is the plain call', async () => {
    const client = await connect('modern', { JLAB_MCP_TASKS: 'false' });
    assert.equal(client.client.getServerCapabilities()?.extensions?.['io.modelcontextprotocol/tasks'], undefined);
    const { sid } = await startSession(client, 'notasks');
    const call = await client.tasks.callTool(
      'execute_code',
      { session_id: sid, code: 'import time; time.sleep(3); print("slept")' },
      { task: { preference: 'prefer' } },
    );
    assert.equal(call.kind, 'immediate');
    assert.match(textOf(((await call.settle()).outcome as { result: ToolResult }).result), /^slept/);
  });

  it('restart (keep): the old task id answers from the reattached session; a task whose session is gone fails with the resume call', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-task-state-'));
    const first = await connect('modern', { JLAB_MCP_STATE_DIR: stateDir, JLAB_MCP_ON_EXIT: 'keep' });
    const a = await startSession(first, 'survives');
    const b = await startSession(first, 'lost');
    const start = async (sid: string, code: string) => {
      const execution = await first.tasks.callTool('execute_code', { session_id: sid, code }, { task: { preference: 'prefer' } });
      assert.equal(execution.kind, 'task');
      await execution.detach();
      return execution.handle!.taskId;
    };
    const survivor = await start(a.sid, 'import time\nfor i in range(6):\n    print("tick", i, flush=True)\n    time.sleep(1)\nprint("over")');
    const lostTask = await start(b.sid, 'import time, os\nprint(os.getpid(), flush=True)\ntime.sleep(300)');
    // Wait until both cells run, then exit (keep) and delete the second session's kernel while no jlab-mcp is attached.
    let views: string[] = [];
    await waitUntil(
      'both cells running',
      async () => {
        views = await Promise.all([survivor, lostTask].map(async (taskId) => String((await first.raw('tasks/get', { taskId })).result?.statusMessage)));
        return views.every((message) => /running/.test(message));
      },
      { intervalMs: 300, detail: () => views.join(' | ') },
    );
    const firstPid = first.pid()!;
    await first.close();
    assert.deepEqual(await waitUntilGone([firstPid], 20_000), [], 'the first jlab-mcp exits');
    const registry = JSON.parse(await readFile(path.join(stateDir, 'registry.json'), 'utf8')) as {
      servers: Record<string, { baseUrl: string; tokenFile: string }>;
      sessions: Record<string, { kernelId: string }>;
      tasks: Record<string, { status: string }>;
    };
    assert.equal(registry.tasks[survivor]?.status, 'working', 'the task is in the registry');
    const server = registry.servers.default!;
    const token = (await readFile(server.tokenFile, 'utf8')).split('\n')[0]!;
    const deleted = await fetch(new URL(`api/kernels/${registry.sessions[b.sid]!.kernelId}`, server.baseUrl), {
      method: 'DELETE',
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(deleted.status, 204);

    // A 2025 client this time: the SDK's 2026 negotiation would first spawn a probe sibling on the same state directory.
    const second = await connect('legacy', { JLAB_MCP_STATE_DIR: stateDir }, first.notebookDir);
    const survived = await settledTask(second, survivor);
    assert.equal(survived?.status, 'completed', JSON.stringify(survived));
    assert.match(textOf(survived!.result as ToolResult), /tick 5\nover[\s\S]*· ok/);
    const lost = await settledTask(second, lostTask);
    assert.equal(lost?.status, 'failed', JSON.stringify(lost));
    assert.match(String((lost!.error as { message: string }).message), /start_session_resume_notebook\(.*notebook_path/);
  });
});
