// Following a cell an earlier jlab-mcp left running (reattach), on a scripted fake kernel: its
// spooled output first and live output after, each message once; without a spool the saved
// output is kept and the gap is said; the cell ends when the kernel is done with it.
import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { CodeCell } from '../../src/notebook/types.js';
import { FakeKernel, gate } from '../helpers/fakeKernel.js';
import { notebookWithCode, sessionOnFakeKernel } from '../helpers/sessionFixture.js';

/** A kernel busy with a request "the earlier jlab-mcp" sent: `msgId` is what its registry recorded. */
async function kernelRunningElsewhere(code: string) {
  const kernel = new FakeKernel();
  const held = gate();
  kernel.on(code, held.script);
  const { msg } = kernel.requestExecute(code);
  const run = await held.started;
  return { kernel, run, release: held.release, msgId: msg.header.msg_id };
}

describe('session reattach', () => {
  it('without a spool keeps the saved output, says what is missing, and adds the live output', async (t) => {
    const { kernel, run, release, msgId } = await kernelRunningElsewhere('train()');
    const { session, notebook } = await sessionOnFakeKernel(t, { kernel, notebook: notebookWithCode('train()') });
    const cell = notebook.cells[0] as CodeCell;
    cell.outputs = [{ output_type: 'stream', name: 'stdout', text: 'epoch 1\n' }];
    const ticket = session.follow(cell, { msgId, startedAt: Date.now() - 60_000 });
    await ticket.started;
    run.stream('epoch 2\n');
    release();
    const outcome = await session.settle(ticket);
    assert.equal(outcome?.status, 'ok');
    assert.deepEqual(
      outcome?.outputs.map((output) => [output.name, output.text]),
      [
        ['stdout', 'epoch 1\n'],
        ['stderr', '[jlab-mcp: output printed while no jlab-mcp was attached is missing here (this kernel keeps no spool); later output follows]\n'],
        ['stdout', 'epoch 2\n'],
      ],
    );
    assert.ok(outcome!.durationMs >= 60_000, 'the run counts from when the earlier jlab-mcp started it');
    assert.equal(session.current, undefined);
  });

  it('with a spool rebuilds the output from it, then live messages, each once', async (t) => {
    const kernel = new FakeKernel();
    const { session, notebook, dir } = await sessionOnFakeKernel(t, { kernel, notebook: notebookWithCode('train()') });
    kernel.spoolPath = path.join(dir, 'spool.jsonl');
    const held = gate();
    kernel.on('train()', held.script);
    const msgId = kernel.requestExecute('train()').msg.header.msg_id; // the earlier jlab-mcp's request
    const run = await held.started;
    run.stream('while away 1\n');
    run.stream('while away 2\n');
    await appendFile(kernel.spoolPath, '{"torn');
    const cell = notebook.cells[0] as CodeCell;
    cell.outputs = [{ output_type: 'stream', name: 'stdout', text: 'stale\n' }];
    const ticket = session.follow(cell, { msgId, startedAt: Date.now() });
    await ticket.started;
    await appendFile(kernel.spoolPath, '\n');
    run.stream('live\n'); // from the websocket (the fake spools it too, as the kernel does)
    held.release();
    const outcome = await session.settle(ticket);
    assert.equal(outcome?.executionCount, 1, 'from the spooled execute_input');
    assert.deepEqual(
      outcome?.outputs.map((output) => output.text),
      ['while away 1\nwhile away 2\nlive\n'],
    );
  });

  it('queues new cells behind the followed one', async (t) => {
    const { kernel, release, msgId } = await kernelRunningElsewhere('train()');
    const { session, notebook } = await sessionOnFakeKernel(t, { kernel, notebook: notebookWithCode('train()') });
    const followed = session.follow(notebook.cells[0] as CodeCell, { msgId, startedAt: Date.now() });
    const next = session.executeCode('evaluate()');
    await followed.started;
    assert.deepEqual(session.queued, [next]);
    release();
    assert.equal((await session.settle(next))?.status, 'ok');
    assert.equal(followed.outcome?.status, 'ok');
  });
});
