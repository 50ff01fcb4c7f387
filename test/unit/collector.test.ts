import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KernelMessage } from '@jupyterlab/services';
import { OutputCollector, appendStreamText } from '../../src/notebook/outputCollector.js';
import { toAgentContent } from '../../src/output/agentContent.js';

function iopub(msg_type: string, content: Record<string, unknown>): KernelMessage.IIOPubMessage {
  return {
    header: { msg_type, msg_id: 'x', session: 's', username: '', date: '', version: '5.3' },
    parent_header: {},
    metadata: {},
    content,
    channel: 'iopub',
  } as unknown as KernelMessage.IIOPubMessage;
}

describe('OutputCollector', () => {
  it('merges consecutive chunks of one stream and keeps stdout/stderr apart', () => {
    const c = new OutputCollector();
    c.handle(iopub('stream', { name: 'stdout', text: 'a\n' }));
    c.handle(iopub('stream', { name: 'stdout', text: 'b\n' }));
    c.handle(iopub('stream', { name: 'stderr', text: 'warn\n' }));
    c.handle(iopub('stream', { name: 'stdout', text: 'c\n' }));
    assert.deepEqual(c.outputs, [
      { output_type: 'stream', name: 'stdout', text: 'a\nb\n' },
      { output_type: 'stream', name: 'stderr', text: 'warn\n' },
      { output_type: 'stream', name: 'stdout', text: 'c\n' },
    ]);
  });

  it('collapses progress bars across chunks, in both \\r styles', () => {
    const c = new OutputCollector();
    c.handle(iopub('stream', { name: 'stdout', text: 'start\n' }));
    for (let i = 0; i <= 100; i += 10) c.handle(iopub('stream', { name: 'stdout', text: `\r${i}%` }));
    c.handle(iopub('stream', { name: 'stdout', text: '\n' }));
    for (let i = 0; i <= 3; i++) c.handle(iopub('stream', { name: 'stdout', text: `step ${i}\r` }));
    c.handle(iopub('stream', { name: 'stdout', text: 'done\n' }));
    assert.equal((c.outputs[0] as { text: string }).text, 'start\n100%\ndone\n');
    assert.equal(appendStreamText('x\nab', '\bc'), 'x\nac');
  });

  it('honours clear_output(wait=True) only when the next output arrives', () => {
    const c = new OutputCollector();
    c.handle(iopub('stream', { name: 'stdout', text: 'old\n' }));
    c.handle(iopub('clear_output', { wait: true }));
    assert.equal(c.outputs.length, 1);
    c.handle(iopub('stream', { name: 'stdout', text: 'new\n' }));
    assert.deepEqual(c.outputs, [{ output_type: 'stream', name: 'stdout', text: 'new\n' }]);
    c.handle(iopub('clear_output', { wait: false }));
    assert.deepEqual(c.outputs, []);
  });

  it('keeps whole mime bundles and applies update_display_data by display_id', () => {
    const c = new OutputCollector();
    c.handle(iopub('display_data', { data: { 'text/plain': 'v1', 'text/html': '<b>v1</b>' }, metadata: {}, transient: { display_id: 'd' } }));
    c.handle(iopub('execute_result', { data: { 'text/plain': '42' }, metadata: {}, execution_count: 7 }));
    c.handle(iopub('update_display_data', { data: { 'text/plain': 'v2' }, metadata: {}, transient: { display_id: 'd' } }));
    assert.deepEqual(c.outputs, [
      { output_type: 'display_data', data: { 'text/plain': 'v2' }, metadata: {} },
      { output_type: 'execute_result', data: { 'text/plain': '42' }, metadata: {}, execution_count: 7 },
    ]);
  });

  it('records errors with their traceback', () => {
    const c = new OutputCollector();
    c.handle(iopub('error', { ename: 'ValueError', evalue: 'bad', traceback: ['\x1b[31mline\x1b[0m'] }));
    assert.deepEqual(c.outputs, [{ output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: ['\x1b[31mline\x1b[0m'] }]);
  });
});

describe('toAgentContent', () => {
  const options = { textBudget: 20_000, maxImages: 2, cellLabel: 'cell 3' };

  it('gives clean text, errors as ename: evalue + traceback without ANSI, and images', async () => {
    const content = await toAgentContent(
      [
        { output_type: 'stream', name: 'stdout', text: '\x1b[1;32mgreen\x1b[0m\n' },
        { output_type: 'execute_result', data: { 'text/plain': '2', 'text/html': '<b>2</b>' }, metadata: {}, execution_count: 1 },
        { output_type: 'display_data', data: { 'image/png': 'iVBO\nRw==', 'text/plain': '<Figure>' }, metadata: {} },
        { output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['\x1b[0;31mTraceback\x1b[0m', '----> 1 1/0'] },
      ],
      options,
    );
    assert.deepEqual(content, [
      { type: 'text', text: 'green\n2\nZeroDivisionError: division by zero\nTraceback\n----> 1 1/0' },
      { type: 'image', mimeType: 'image/png', data: 'iVBORw==' },
    ]);
  });

  it('caps images and says where the rest are', async () => {
    const img = { output_type: 'display_data' as const, data: { 'image/png': 'AAAA' }, metadata: {} };
    const content = await toAgentContent([img, img, img, img], options);
    assert.equal(content.filter((c) => c.type === 'image').length, 2);
    assert.match((content[0] as { text: string }).text, /2 more image\(s\) not shown; they are in cell 3/);
  });

  it('cuts long output in the middle with a marker naming the cell', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n');
    const [block] = await toAgentContent([{ output_type: 'stream', name: 'stdout', text: lines }], { ...options, textBudget: 1000 });
    const text = (block as { text: string }).text;
    assert.ok(text.startsWith('line 0\n'));
    assert.ok(text.endsWith('line 4999'));
    assert.match(text, /characters \(\d+ lines\) left out; the full output is in cell 3 of the notebook/);
    assert.ok(text.length < 1200);
  });

  it('returns nothing for no output', async () => {
    assert.deepEqual(await toAgentContent([], options), []);
  });
});
