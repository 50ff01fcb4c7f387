// Scratch runs (execute_code with scratch: true) on a scripted fake kernel: nothing is recorded
// (no cell, no save, the file byte-identical), store_history=false reaches the kernel, they queue
// like cells and behind a replay, interrupt and cancel stop them, replies say so, and the
// assignment check behind the "state changed" note.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { awaitTicketReply, type WaitOptions } from '../../src/mcp/cellWaiter.js';
import { assignsNames } from '../../src/sessions/scratchAssigns.js';
import { gate, untilInterrupted } from '../helpers/fakeKernel.js';
import { requestContext, type RequestFixture } from '../helpers/requestContext.js';
import { notebookWithCode, sessionOnFakeKernel } from '../helpers/sessionFixture.js';

function waitOptions(request: RequestFixture, overrides: Partial<WaitOptions> = {}): WaitOptions {
  return { timeoutMs: 5000, budget: { textBudget: 10_000, maxImages: 2 }, ctx: request.ctx, interruptOnCancel: true, progressIntervalMs: 10, ...overrides };
}

function text(reply: { content: Array<{ type: string; text?: string }> }): string {
  return reply.content.map((block) => block.text ?? `[${block.type}]`).join('\n');
}

describe('scratch runs', () => {
  it('run with store_history=false and leave the notebook file byte-identical and the count where it was', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    kernel.on('df.shape', (run) => run.result('(3, 4)'));
    await session.settle(session.executeCode('x = 1'));
    await notebook.flush();
    const before = await readFile(notebook.path);
    const look = session.executeScratch('df.shape');
    const reply = await awaitTicketReply(session, look, waitOptions(requestContext()));
    assert.equal(look.delivered, true, 'returned once, like a cell');
    assert.equal(reply.data.status, 'ok');
    assert.equal(reply.data.execution_count, null);
    assert.deepEqual(reply.data.cell, { id: null, index: null });
    assert.equal(reply.data.output_uri, null, 'no resource names a cell that does not exist');
    assert.equal((reply.data as { scratch?: boolean }).scratch, true);
    assert.match(text(reply), /^\(3, 4\)\n/);
    assert.match(text(reply), /Scratch run: not recorded/);
    assert.doesNotMatch(text(reply), /assigns names/, 'a look changes nothing');
    assert.deepEqual(
      kernel.requests.map((request) => [request.code, request.storeHistory]),
      [
        ['x = 1', true],
        ['df.shape', false],
      ],
    );
    await notebook.flush();
    await new Promise((resolve) => setTimeout(resolve, 60)); // past the fixture's save interval
    assert.deepEqual(await readFile(notebook.path), before, 'the file is byte-identical');
    assert.equal(notebook.cells.length, 1);
    const next = await session.settle(session.executeCode('y = 2'));
    assert.equal(next?.executionCount, 2, 'the next recorded cell takes the next count');
  });

  it('say when the code assigns, since a resume would not reproduce it', async (t) => {
    const { session } = await sessionOnFakeKernel(t);
    const reply = await awaitTicketReply(session, session.executeScratch('import os\nx = 1'), waitOptions(requestContext()));
    assert.match(text(reply), /this code assigns names, so the kernel's state changed; a resume from the notebook would not reproduce it/);
    assert.ok(reply.data.notes.some((note) => /assigns names/.test(note)));
  });

  it('queue behind a running cell, and a recorded cell queued after them still lands in the notebook', async (t) => {
    const { session, kernel, readBack } = await sessionOnFakeKernel(t);
    const slow = gate((run) => run.stream('done\n'));
    kernel.on('train()', slow.script);
    const training = session.executeCode('train()');
    const look = session.executeScratch('nvidia_smi()');
    const after = session.executeCode('z = 3');
    await slow.started;
    const queuedReply = await awaitTicketReply(session, look, waitOptions(requestContext(), { timeoutMs: 20 }));
    assert.equal(queuedReply.data.status, 'queued');
    assert.match(text(queuedReply), /scratch run: nvidia_smi\(\) waits behind cell 0/);
    slow.release();
    await session.settle(training);
    await session.settle(look);
    await session.settle(after);
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['train()', 'nvidia_smi()', 'z = 3'],
    );
    const cells = (await readBack()).cells;
    assert.deepEqual(
      cells.map((cell) => [cell.source].flat().join('')),
      ['train()', 'z = 3'],
    );
  });

  it('outlive the timeout, then wait_for_cell-style waits follow them, and interrupt stops them', async (t) => {
    const { session, kernel, notebook } = await sessionOnFakeKernel(t);
    kernel.on('loop()', untilInterrupted('tick\n'));
    const ticket = session.executeScratch('loop()');
    const early = await awaitTicketReply(session, ticket, waitOptions(requestContext(), { timeoutMs: 30 }));
    assert.equal(early.data.status, 'running');
    assert.match(text(early), /tick/);
    assert.match(text(early), /scratch run is still running .* wait_for_cell\(session_id="s1"\)/s);
    assert.equal(session.current, ticket, 'wait_for_cell follows session.current: the scratch run');
    const report = await session.interrupt();
    assert.equal(report.state, 'stopped');
    const final = await awaitTicketReply(session, ticket, waitOptions(requestContext()));
    assert.equal(final.data.status, 'error');
    assert.equal(final.data.error?.ename, 'KeyboardInterrupt');
    assert.equal(notebook.cells.length, 0, 'nothing was recorded, not even the interrupt');
  });

  it('a cancelled request interrupts a running scratch run', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    kernel.on('loop()', untilInterrupted());
    const request = requestContext();
    const ticket = session.executeScratch('loop()');
    await kernel.nextRun('loop()');
    const waiting = awaitTicketReply(session, ticket, waitOptions(request));
    request.abort.abort();
    const reply = await waiting;
    assert.equal(kernel.interrupts, 1);
    assert.equal(reply.data.status, 'error');
    assert.deepEqual(reply.data.cell, { id: null, index: null });
  });

  it('wait for a resume replay to end, never run between its cells', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t, { notebook: notebookWithCode('a = 1', 'b = 2') });
    const first = gate();
    kernel.on('a = 1', first.script);
    const replay = session.startReplay({ cellTimeoutMs: 5000, stopOnError: false });
    await first.started;
    const look = session.executeScratch('a');
    first.release();
    await replay.done;
    await session.settle(look);
    assert.deepEqual(
      kernel.requests.map((request) => request.code),
      ['a = 1', 'b = 2', 'a'],
    );
  });

  it('are never recorded as running for a later jlab-mcp to reattach to', async (t) => {
    const { session, kernel } = await sessionOnFakeKernel(t);
    const recorded: unknown[] = [];
    session.onRunning = (running) => recorded.push(running);
    const slow = gate();
    kernel.on('sleep(2)', slow.script);
    const ticket = session.executeScratch('sleep(2)');
    await slow.started;
    await session.detach();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    slow.release();
    await ticket.done;
    assert.deepEqual(recorded, []);
  });
});

describe('assignsNames (Python, top level)', () => {
  it('sees bindings', () => {
    for (const code of [
      'x = 1',
      'x += 1',
      'x: int = 3',
      'a, b = 1, 2',
      '(a, b) = f()',
      'df["c"] = 1',
      'obj.attr = 2',
      'import numpy as np',
      'from os import path',
      'def f():\n    return 1',
      'class A:\n    pass',
      'del x',
      'for i in range(3):\n    print(i)',
      'with open("f") as fh:\n    pass',
      'print(1)\ny = 2',
    ]) {
      assert.equal(assignsNames(code), true, code);
    }
  });

  it('leaves looks alone', () => {
    for (const code of [
      'df.shape',
      'x == 1',
      'print("a = b")',
      'f(a=1)',
      'x <= 1',
      'x != 2',
      '!nvidia-smi',
      'model.device',
      '    y = 1  # indented: not top level',
    ]) {
      assert.equal(assignsNames(code), false, code);
    }
  });
});
