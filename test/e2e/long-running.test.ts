import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { waitUntil } from '../helpers/poll.js';
import { readNotebook } from '../helpers/notebookFile.js';

/** Long cells, background execution and the output budget, through the real MCP client. */
describe('long-running cells and the output budget', () => {
  let server: Spawned;
  let sid = '';
  let notebookPath = '';

  before(async () => {
    server = await spawnServer({ JLAB_MCP_OUTPUT_BUDGET: '4000', JLAB_MCP_IMAGE_MAX_EDGE: '400', JLAB_MCP_LOG_LEVEL: 'warn' });
    const started = await call(server.client, 'start_new_session', { experiment_name: 'long' });
    sid = String(started.structuredContent?.session_id);
    notebookPath = String(started.structuredContent?.notebook_path);
  });
  after(async () => {
    await server?.close();
  });

  const cellOf = async (index: number) => (await readNotebook(notebookPath)).cells[index];

  it('returns partial output at the timeout; wait_for_cell brings the rest; the notebook gets every line', async () => {
    const code = 'import time\nfor i in range(6):\n    print(f"tick {i}", flush=True)\n    time.sleep(1)';
    const first = await call(server.client, 'execute_code', { session_id: sid, code, timeout: 2.5 });
    const firstText = textOf(first);
    assert.match(firstText, /tick 0/);
    assert.doesNotMatch(firstText, /tick 5/);
    assert.match(firstText, /cell 0 \(id \w+\) is still running \(\d+ s so far\)[\s\S]*wait_for_cell/);
    const queued = await call(server.client, 'execute_code', { session_id: sid, code: 'print("after")', timeout: 0.5 });
    assert.match(textOf(queued), /Queued: the new cell: print\("after"\) waits behind cell 0 \(id \w+\)/);
    const rest = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
    const restText = textOf(rest);
    assert.match(restText, /tick 5/);
    assert.doesNotMatch(restText, /tick 0\n/, 'only what was not seen yet');
    assert.match(restText, /\[cell 0 \(id \w+\) · In \[\d+\] · ok/);
    const again = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
    assert.match(textOf(again), /after[\s\S]*\[cell 1 /);
    const cell = await cellOf(0);
    assert.equal(cell.outputs[0].text, Array.from({ length: 6 }, (_, i) => `tick ${i}\n`).join(''));
    assert.equal(typeof cell.execution_count, 'number');
    const idle = await call(server.client, 'wait_for_cell', { session_id: sid });
    assert.match(textOf(idle), /No cell is running or waiting/);
  });

  it('sends progress notifications with elapsed time and the newest line during a 6 s cell', async () => {
    const progress: Array<{ progress: number; message?: string }> = [];
    const result = await server.client.callTool(
      { name: 'execute_code', arguments: { session_id: sid, code: 'import time\nfor i in range(6):\n    print(f"step {i}", flush=True)\n    time.sleep(1)' } },
      { timeout: 60_000, onprogress: (p) => void progress.push(p) },
    );
    assert.match(textOf(result as never), /step 5/);
    assert.ok(progress.length >= 2, `got ${progress.length} progress notifications`);
    assert.ok(
      progress.every((p, i) => i === 0 || p.progress > progress[i - 1]!.progress),
      'progress increases',
    );
    assert.ok(
      progress.some((p) => /running \d+ s · step \d/.test(p.message ?? '')),
      JSON.stringify(progress),
    );
  });

  it('cancelling a request interrupts the kernel, and the next cell runs at once', async () => {
    const controller = new AbortController();
    const progress: string[] = [];
    const pending = server.client.callTool(
      { name: 'execute_code', arguments: { session_id: sid, code: 'import time\nprint("sleeping now", flush=True)\ntime.sleep(120)' } },
      { signal: controller.signal, timeout: 180_000, onprogress: (p) => void progress.push(p.message ?? '') },
    );
    // What the client's own promise does on abort is the SDK's business, not ours.
    pending.catch(() => {});
    // Cancel once the cell is seen running (its first line in a progress notification).
    await waitUntil('progress showing the cell running', () => progress.some((m) => m.includes('sleeping now')), { intervalMs: 50, detail: () => progress });
    controller.abort();
    // Had the kernel not been interrupted, this cell would still be queued behind the 120 s sleep
    // when its 20 s timeout passes, and the reply would say so.
    const next = await call(server.client, 'execute_code', { session_id: sid, code: 'print("next")', timeout: 20 });
    assert.match(textOf(next), /^next\n[\s\S]*\[cell \d+ \(id \w+\) · In \[\d+\] · ok/);
    const nb = await readNotebook(notebookPath);
    const slept = nb.cells.find((c: { source: string[] }) => c.source.join('').includes('sleep(120)'));
    assert.equal(slept.outputs.find((o: { output_type: string }) => o.output_type === 'error')?.ename, 'KeyboardInterrupt');
    assert.equal(slept.outputs[0].text, 'sleeping now\n');
  });

  it('interrupt_kernel stops a backgrounded cell and KeyboardInterrupt is recorded', async () => {
    const started = await call(server.client, 'execute_code', { session_id: sid, code: 'import time\nwhile True:\n    time.sleep(0.1)', timeout: 1 });
    assert.match(textOf(started), /still running/);
    const interrupted = await call(server.client, 'interrupt_kernel', { session_id: sid });
    const target = interrupted.structuredContent?.interrupted as { id: string; index: number };
    assert.equal(typeof target.index, 'number');
    assert.equal(typeof target.id, 'string');
    const waited = await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 20 });
    assert.match(textOf(waited), /KeyboardInterrupt/);
    const index = target.index;
    assert.equal((await cellOf(index)).outputs.at(-1).ename, 'KeyboardInterrupt');
  });

  it('restart_kernel clears state and the session goes on', async () => {
    await call(server.client, 'execute_code', { session_id: sid, code: 'kept = 1' });
    const restarted = await call(server.client, 'restart_kernel', { session_id: sid });
    assert.equal(restarted.isError, undefined, textOf(restarted));
    const after = await call(server.client, 'execute_code', { session_id: sid, code: "print('kept' in globals())" });
    assert.match(textOf(after), /^False/);
    // The silent per-kernel setup (stream chunking) is applied again after a restart.
    const setup = await call(server.client, 'execute_code', {
      session_id: sid,
      code: "from ipykernel.iostream import OutStream\nprint(getattr(OutStream, '_jlab_mcp_chunked', False))",
    });
    assert.match(textOf(setup), /^True/);
  });

  it('cuts 5 MB of output for the agent with a marker, the notebook keeps head and tail', async () => {
    const result = await call(server.client, 'execute_code', { session_id: sid, code: 'for i in range(50000):\n    print(f"line {i:06d} " + "x" * 90)' });
    const text = textOf(result);
    assert.ok(text.length < 6000, `agent got ${text.length} characters`);
    assert.match(text, /^line 000000/);
    assert.match(text, /line 049999/);
    assert.match(text, /characters \(\d+ lines\) left out; the full output is in cell \d+ of the notebook/);
  });

  it('keeps memory bounded while cells print 50 MB; the notebook keeps a capped copy with a note', async (t) => {
    const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${server.pid()}/status`, 'utf8'))![1]) / 1024;
    const code = 'import sys\nfor _ in range(50):\n    sys.stdout.write("y" * (1 << 20) + "\\n")';
    const before = await rss();
    const peaks: number[] = [];
    for (let round = 0; round < 2; round++) {
      let peak = await rss();
      const sampler = setInterval(
        () =>
          void rss().then(
            (v) => (peak = Math.max(peak, v)),
            () => {},
          ),
        50,
      );
      try {
        const result = await call(server.client, 'execute_code', { session_id: sid, code, timeout: 120 });
        assert.match(textOf(result), /left out; the full output is in cell/);
        const index = Number(/\[cell (\d+) \(id \w+\) ·/.exec(textOf(result))![1]);
        const text: string = (await cellOf(index)).outputs[0].text;
        assert.ok(text.length <= 2_100_000, `notebook kept ${text.length} characters`);
        assert.match(text, /jlab-mcp kept the first and last part of this output; \d+ characters in between were not recorded/);
      } finally {
        clearInterval(sampler);
      }
      peaks.push(peak - before);
    }
    t.diagnostic(`server RSS growth while printing 50 MB: first ${Math.round(peaks[0]!)} MB, second ${Math.round(peaks[1]!)} MB`);
    // Python kernels we start flush every ~1 MB (assets/kernel/python_setup.py), so no single
    // message is huge; what we keep is capped. Neither run may grow RSS by 100 MB.
    assert.ok(Math.max(...peaks) < 100, `RSS grew by ${peaks.map(Math.round).join(' then ')} MB`);
  });

  it('collapses a \\r progress loop to its final line and strips colours and OSC links', async () => {
    const bar = await call(server.client, 'execute_code', {
      session_id: sid,
      code: 'import sys, time\nfor i in range(0, 101, 20):\n    sys.stdout.write(f"\\rprogress {i:3d}%")\n    sys.stdout.flush()\n    time.sleep(0.05)\nprint()',
    });
    assert.match(textOf(bar), /^progress 100%\n\[cell/);
    const colours = await call(server.client, 'execute_code', {
      session_id: sid,
      code: 'print("\\x1b[1;31mred\\x1b[0m and \\x1b]8;;https://example.org\\x1b\\\\a link\\x1b]8;;\\x1b\\\\ \\x1b]0;title\\x07done")',
    });
    assert.match(textOf(colours), /^red and a link done\n/);
  });

  it('scales figures down for the agent while the notebook keeps the original', async () => {
    const result = await call(server.client, 'execute_code', {
      session_id: sid,
      code: 'import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(10, 5), dpi=150)\nplt.plot([1, 3, 2])\nplt.show()',
    });
    const image = result.content.find((block) => block.type === 'image')!;
    const png = Buffer.from(image.data!, 'base64');
    const index = Number(/\[cell (\d+) \(id \w+\) ·/.exec(textOf(result))![1]);
    const original = Buffer.from(
      (await cellOf(index)).outputs.find((o: { output_type: string }) => o.output_type === 'display_data').data['image/png'],
      'base64',
    );
    const [width, height] = [original.readUInt32BE(16), original.readUInt32BE(20)];
    assert.ok(width > 1000, `the notebook keeps the full-size original (${width}×${height})`);
    const expected = [400, Math.round((height * 400) / width)];
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], expected);
    assert.match(textOf(result), new RegExp(`image scaled to ${expected[0]}×${expected[1]} for you; the originals are in cell ${index}`));
  });

  it('answers input() at once with a clear error', async () => {
    const started = Date.now();
    const result = await call(server.client, 'execute_code', { session_id: sid, code: 'name = input("name? ")' });
    assert.match(textOf(result), /StdinNotAvailable: input\(\)/);
    assert.ok(Date.now() - started < 10_000);
  });
});
