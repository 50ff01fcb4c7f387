// How one execute request ends (jupyter/execute.ts) on a scripted fake kernel: reply and idle, in
// order; idle without a reply (after a grace, under mock timers); the kernel restarted or the
// server lost under it. Every ending is a value, never a thrown error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KernelMessage } from '@jupyterlab/services';
import { executeOnKernel } from '../../src/jupyter/execute.js';
import { FakeKernel, gate } from '../helpers/fakeKernel.js';

function collect(): { messages: KernelMessage.IIOPubMessage[]; onIOPub: (message: KernelMessage.IIOPubMessage) => void } {
  const messages: KernelMessage.IIOPubMessage[] = [];
  return { messages, onIOPub: (message) => messages.push(message) };
}

const kinds = (messages: KernelMessage.IIOPubMessage[]) =>
  messages.map((message) =>
    message.header.msg_type === 'status' ? `status:${(message.content as { execution_state: string }).execution_state}` : message.header.msg_type,
  );

describe('execute request endings', () => {
  it('ends ok after reply and idle, handing over every iopub message in order', async () => {
    const kernel = new FakeKernel().on('print(1)', (run) => run.stream('1\n'));
    const { messages, onIOPub } = collect();
    const { end, msgId } = executeOnKernel(kernel, 'print(1)', onIOPub);
    assert.deepEqual(await end, { kind: 'ok', executionCount: 1 });
    assert.equal(msgId, kernel.requests[0]?.msgId);
    assert.deepEqual(kinds(messages), ['status:busy', 'execute_input', 'stream', 'status:idle']);
  });

  it('ends error when the code raised', async () => {
    const kernel = new FakeKernel().on('boom', (run) => run.error('RuntimeError', 'boom'));
    assert.deepEqual(await executeOnKernel(kernel, 'boom', () => {}).end, { kind: 'error', executionCount: 1 });
  });

  it('ends no_reply when the kernel goes idle and never answers, after the grace period', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const kernel = new FakeKernel().on('bad', (run) => run.withoutReply());
    let idleSeen!: () => void;
    const idle = new Promise<void>((resolve) => (idleSeen = resolve));
    const { end } = executeOnKernel(kernel, 'bad', (message) => {
      if (message.header.msg_type === 'status' && (message.content as { execution_state: string }).execution_state === 'idle') idleSeen();
    });
    await idle;
    let ending: unknown;
    void end.then((value) => (ending = value));
    t.mock.timers.tick(2999);
    await Promise.resolve();
    assert.equal(ending, undefined, 'a reply may still come within the grace period');
    t.mock.timers.tick(1);
    assert.deepEqual(await end, { kind: 'no_reply' });
  });

  it('ends lost (died) when the kernel restarts under it, and lost (disconnected) when the server goes', async () => {
    const kernel = new FakeKernel();
    const held = gate();
    kernel.on('slow', held.script);
    const dying = executeOnKernel(kernel, 'slow', () => {});
    await held.started;
    await kernel.restart();
    assert.deepEqual(await dying.end, { kind: 'lost', loss: 'died' });
    const again = gate();
    kernel.on('slow', again.script);
    const cut = executeOnKernel(kernel, 'slow', () => {});
    await again.started;
    kernel.loseServer();
    assert.deepEqual(await cut.end, { kind: 'lost', loss: 'disconnected' });
  });
});
