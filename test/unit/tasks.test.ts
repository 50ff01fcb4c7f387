import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { McpServer } from '@modelcontextprotocol/server';
import { registryPersistence } from '../../src/mcp/tasks/registryPersistence.js';
import { checkSdkHooks, installToolsCallHook, markTaskSupport } from '../../src/mcp/tasks/sdkHooks.js';
import { SessionRegistry } from '../../src/state/registry.js';
import type { TaskRecord } from '../../src/mcp/tasks/taskRecord.js';
import { TaskRunner } from '../../src/mcp/tasks/taskRunner.js';
import { TaskStore, type TaskPersistence } from '../../src/mcp/tasks/taskStore.js';
import type { ToolsCallHandler } from '../../src/mcp/tasks/sdkHooks.js';
import type { ServerContext } from '@modelcontextprotocol/server';
import { createTaskResult, getTaskResult, taskOptIn, taskPayload } from '../../src/mcp/tasks/wire.js';

/** A persistence that keeps what it is given, like the registry does. */
function memory(initial: Record<string, TaskRecord> = {}): TaskPersistence & { saved: Map<string, TaskRecord> } {
  const saved = new Map(Object.entries(initial));
  return { saved, load: () => Object.fromEntries(saved), save: (record) => saved.set(record.taskId, { ...record }), remove: (taskId) => saved.delete(taskId) };
}

describe('task store: the state machine and TTL', () => {
  const result = { content: [{ type: 'text' as const, text: 'done' }] };

  it('a task starts working with an unguessable id and is persisted; progress changes only its message', () => {
    const persistence = memory();
    const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence });
    const task = store.create('v2', 'execute_code', 's1');
    assert.match(task.taskId, /^[0-9a-f]{32}$/);
    assert.equal(task.status, 'working');
    assert.equal(persistence.saved.size, 0, 'not persisted before its id is handed out');
    store.publish(task.taskId);
    assert.equal(persistence.saved.get(task.taskId)?.sessionId, 's1');
    store.progress(task.taskId, 'cell 0 running 2 s · epoch 1');
    assert.equal(store.get(task.taskId)?.statusMessage, 'cell 0 running 2 s · epoch 1');
    assert.notEqual(store.create('v2', 'execute_code', 's1').taskId, task.taskId);
  });

  it('a task answered directly (discarded before it was published) never reaches the registry', () => {
    const persistence = memory();
    const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence });
    const task = store.create('v2', 'execute_code', 's1');
    store.complete(task.taskId, result);
    store.discard(task.taskId);
    assert.equal(persistence.saved.size, 0);
    assert.equal(store.get(task.taskId), undefined);
  });

  it('past the cap of finished tasks the oldest finished ones are forgotten (memory and registry); working ones stay', () => {
    const persistence = memory();
    const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence, maxFinished: 2 });
    const working = store.create('v1', 'execute_code', 's1');
    store.publish(working.taskId);
    const finished = [1, 2, 3].map(() => {
      const task = store.create('v1', 'execute_code', 's1');
      store.publish(task.taskId);
      store.complete(task.taskId, result);
      return task.taskId;
    });
    store.create('v1', 'execute_code', 's1');
    assert.equal(store.get(finished[0]!), undefined, 'the oldest finished task is gone');
    assert.equal(persistence.saved.has(finished[0]!), false, 'and out of the registry');
    assert.ok(store.get(finished[1]!) && store.get(finished[2]!), 'the two newest are kept');
    assert.equal(store.get(working.taskId)?.status, 'working', 'a working task is never dropped for the cap');
  });

  it('a terminal status never changes again, and progress after it is ignored', () => {
    const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000 });
    const task = store.create('v1', 'run_cell', 's1');
    store.complete(task.taskId, result);
    store.fail(task.taskId, { code: -32603, message: 'late' });
    store.cancelled(task.taskId, 'late');
    store.progress(task.taskId, 'late');
    const after = store.get(task.taskId)!;
    assert.equal(after.status, 'completed');
    assert.deepEqual(after.result, result);
    assert.equal(after.statusMessage, 'finished');
  });

  it('a finished task is forgotten at createdAt + ttl; one still working is kept until it ends', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const persistence = memory();
    const store = new TaskStore({ ttlMs: 1000, pollIntervalMs: 500, persistence, now: () => now });
    const done = store.create('v2', 'execute_code', 's1');
    const long = store.create('v2', 'execute_code', 's1');
    store.publish(done.taskId);
    store.complete(done.taskId, result);
    now += 999;
    assert.ok(store.get(done.taskId));
    now += 1;
    assert.equal(store.get(done.taskId), undefined);
    assert.equal(persistence.saved.has(done.taskId), false, 'gone from the registry too');
    assert.equal(store.get(long.taskId)?.status, 'working');
  });

  it('a client asks for a shorter ttl, never a longer one: every record expires', () => {
    const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000 });
    assert.equal(store.create('v1', 'execute_code', 's1', 5000).ttlMs, 5000);
    assert.equal(store.create('v1', 'execute_code', 's1', Number.MAX_SAFE_INTEGER).ttlMs, 60_000);
  });

  it('a task an earlier process left working and nobody followed is forgotten a ttl after its last update', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const first = memory();
    const earlier = new TaskStore({ ttlMs: 1000, pollIntervalMs: 500, persistence: first, now: () => now });
    const orphan = earlier.create('v2', 'execute_code', 's1');
    earlier.publish(orphan.taskId);
    now += 500;
    const kept = new TaskStore({ ttlMs: 1000, pollIntervalMs: 500, persistence: first, now: () => now });
    assert.equal(kept.get(orphan.taskId)?.status, 'working', 'within its ttl it can still be followed');
    now += 1000;
    const later = new TaskStore({ ttlMs: 1000, pollIntervalMs: 500, persistence: first, now: () => now });
    assert.equal(later.get(orphan.taskId), undefined);
    assert.equal(first.saved.has(orphan.taskId), false, 'gone from the registry too');
  });

  it('tasks from an earlier process are loaded from the persistence', () => {
    const first = memory();
    const earlier = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence: first });
    const task = earlier.create('v2', 'execute_code', 's9');
    earlier.publish(task.taskId);
    const later = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence: memory(Object.fromEntries(first.saved)) });
    assert.equal(later.get(task.taskId)?.sessionId, 's9');
    assert.equal(later.get(task.taskId)?.status, 'working');
  });
});

describe('task wire shapes', () => {
  const base: TaskRecord = {
    taskId: 'abc',
    generation: 'v2',
    toolName: 'execute_code',
    status: 'working',
    statusMessage: 'cell 1 running 3 s · loss 0.1',
    createdAt: '2026-01-01T00:00:00.000Z',
    lastUpdatedAt: '2026-01-01T00:00:03.000Z',
    ttlMs: 86_400_000,
    pollIntervalMs: 2000,
  };

  it('opt-in: the extension in the request envelope or in _meta (v2), params.task (v1), else none', () => {
    const caps = { 'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } } };
    assert.deepEqual(taskOptIn({ name: 'x' }, caps), { generation: 'v2' });
    assert.deepEqual(taskOptIn({ name: 'x', _meta: caps }, undefined), { generation: 'v2' });
    assert.deepEqual(taskOptIn({ name: 'x', task: { ttl: 5000 } }, undefined), { generation: 'v1', ttlMs: 5000 });
    assert.deepEqual(taskOptIn({ name: 'x', task: {} }, undefined), { generation: 'v1', ttlMs: undefined });
    assert.equal(taskOptIn({ name: 'x', _meta: { progressToken: 1 } }, { 'io.modelcontextprotocol/clientCapabilities': {} }), undefined);
  });

  it('v2: resultType task with ttlMs/pollIntervalMs; tasks/get inlines the result of a completed task', () => {
    assert.deepEqual(createTaskResult(base), {
      resultType: 'task',
      taskId: 'abc',
      status: 'working',
      statusMessage: 'cell 1 running 3 s · loss 0.1',
      createdAt: base.createdAt,
      lastUpdatedAt: base.lastUpdatedAt,
      ttlMs: 86_400_000,
      pollIntervalMs: 2000,
    });
    const done = getTaskResult({ ...base, status: 'completed', result: { content: [{ type: 'text', text: 'ok' }], isError: true } });
    assert.equal(done.resultType, 'complete');
    assert.deepEqual(done.result, { resultType: 'complete', content: [{ type: 'text', text: 'ok' }], isError: true });
    const failed = getTaskResult({ ...base, status: 'failed', error: { code: -32603, message: 'gone' } });
    assert.deepEqual(failed.error, { code: -32603, message: 'gone' });
  });

  it('v1: a {task} with ttl/pollInterval; the result comes from tasks/result, tied to its task', () => {
    const v1 = { ...base, generation: 'v1' as const };
    assert.deepEqual(Object.keys(createTaskResult(v1)), ['task']);
    const got = getTaskResult({ ...v1, status: 'completed', result: { content: [] } });
    assert.equal(got.ttl, 86_400_000);
    assert.equal(got.pollInterval, 2000);
    assert.equal('result' in got, false);
    const payload = taskPayload({ ...v1, status: 'completed', result: { content: [{ type: 'text', text: 'ok' }] } });
    assert.deepEqual(payload._meta, { 'io.modelcontextprotocol/related-task': { taskId: 'abc' } });
  });
});

describe('task runner: every task ends in a terminal state', () => {
  const ctx = { mcpReq: { signal: new AbortController().signal, _meta: {} } } as unknown as ServerContext;
  const call = { method: 'tools/call' as const, params: { name: 'execute_code', arguments: { session_id: 's1', code: '1' } } };
  const settled = async (runner: TaskRunner, taskId: string) => {
    assert.ok(await runner.endsWithin(taskId, 5000, new AbortController().signal), 'the call ends');
    return runner.store.get(taskId)!;
  };

  it('a handler that throws fails the task with its code and message', async () => {
    const runner = new TaskRunner(new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000 }));
    const thrown: ToolsCallHandler = async () => {
      throw new Error('boom');
    };
    const task = await settled(runner, runner.start(call, ctx, 'v2', undefined, thrown).taskId);
    assert.equal(task.status, 'failed');
    assert.deepEqual(task.error, { code: -32603, message: 'boom' });
    assert.equal(runner.isRunning(task.taskId), false);
  });

  it('cancel aborts the call the handler sees, and the task ends cancelled', async () => {
    const runner = new TaskRunner(new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000 }));
    const waits: ToolsCallHandler = (_request, taskCtx) =>
      new Promise((resolve) =>
        taskCtx.mcpReq.signal.addEventListener('abort', () => resolve({ content: [{ type: 'text', text: 'Cancelled before it ran.' }] })),
      );
    const record = runner.start(call, ctx, 'v2', undefined, waits);
    assert.equal(runner.cancel(record.taskId), true, 'the abort reaches the handler (the kernel is interrupted there)');
    const task = await settled(runner, record.taskId);
    assert.equal(task.status, 'cancelled');
    assert.match(task.statusMessage!, /Cancelled before it ran/);
  });
});

describe('the private SDK fields tasks rely on', () => {
  it('are there in this SDK (the start-up check passes)', () => {
    checkSdkHooks();
  });

  it('missing, either one is reported instead of tasks silently half-working', () => {
    const withoutTools = new McpServer({ name: 't', version: '0' });
    delete (withoutTools as unknown as Record<string, unknown>)._registeredTools;
    assert.throws(() => markTaskSupport(withoutTools, ['execute_code']), /registered tools/);
    const withoutHandlers = new McpServer({ name: 't', version: '0' });
    delete (withoutHandlers.server as unknown as Record<string, unknown>)._requestHandlers;
    assert.throws(() => installToolsCallHook(withoutHandlers, (original) => original), /request handlers/);
  });
});

describe('tasks in the session registry', () => {
  it('records that are not tasks (a hand-edited or older file) are left out, never fatal', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-task-registry-'));
    try {
      const good = {
        taskId: 'good',
        generation: 'v2',
        toolName: 'execute_code',
        status: 'completed',
        createdAt: new Date().toISOString(),
        lastUpdatedAt: new Date().toISOString(),
        ttlMs: 60_000,
        pollIntervalMs: 2000,
      };
      const content = {
        version: 1,
        owner: { pid: 1, host: 'h', startedAt: good.createdAt },
        servers: {},
        sessions: {},
        tasks: { good, bad: { taskId: 'bad', status: 'working' } },
      };
      await writeFile(path.join(dir, 'registry.json'), JSON.stringify(content), { mode: 0o600 });
      const registry = await SessionRegistry.open(dir);
      const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence: registryPersistence(registry) });
      assert.equal(store.get('good')?.status, 'completed');
      assert.equal(store.get('bad'), undefined);
      await registry.flush(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('are written with the registry (images replaced by a note) and read back by the next process', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-task-registry-'));
    try {
      const registry = await SessionRegistry.open(dir);
      const store = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence: registryPersistence(registry) });
      const task = store.create('v2', 'execute_code', 's1');
      store.publish(task.taskId);
      store.complete(task.taskId, {
        content: [
          { type: 'image', data: 'QUJDRA==', mimeType: 'image/png' },
          { type: 'text', text: 'plot' },
        ],
      });
      await registry.flush(true);
      const text = await readFile(path.join(dir, 'registry.json'), 'utf8');
      assert.doesNotMatch(text, /QUJDRA==/);
      const again = await SessionRegistry.open(dir);
      const later = new TaskStore({ ttlMs: 60_000, pollIntervalMs: 2000, persistence: registryPersistence(again) });
      const read = later.get(task.taskId)!;
      assert.equal(read.status, 'completed');
      assert.match(JSON.stringify(read.result), /image \(image\/png\) is in the notebook[\s\S]*plot/);
      await again.flush(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
