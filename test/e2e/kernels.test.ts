import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { call, spawnServer, textOf } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { readNotebook } from '../helpers/notebookFile.js';

describe('kernel choice', () => {
  it('lists every kernelspec and starts the one asked for; the notebook records it', async () => {
    // A second kernelspec, as an R or Julia install would add one.
    const share = await mkdtemp(path.join(os.tmpdir(), 'jlab-kernels-'));
    const specDir = path.join(share, 'kernels', 'alt-python');
    await mkdir(specDir, { recursive: true });
    await writeFile(
      path.join(specDir, 'kernel.json'),
      JSON.stringify({ argv: ['/usr/bin/python3', '-m', 'ipykernel_launcher', '-f', '{connection_file}'], display_name: 'Alt Python', language: 'python' }),
    );
    const server = await spawnServer({ JUPYTER_PATH: share });
    try {
      const listed = await call(server.client, 'list_kernels');
      const names = (listed.structuredContent?.kernels as Array<{ name: string }>).map((k) => k.name).sort();
      assert.deepEqual(names, ['alt-python', 'python3']);
      const started = await call(server.client, 'start_new_session', { experiment_name: 'alt', kernel_name: 'alt-python' });
      assert.equal(started.structuredContent?.kernel_name, 'alt-python');
      assert.equal(started.structuredContent?.kernel_display_name, 'Alt Python');
      const ran = await call(server.client, 'execute_code', { session_id: String(started.structuredContent?.session_id), code: 'print("alt ok")' });
      assert.match(textOf(ran), /^alt ok/);
      const notebookPath = String(started.structuredContent?.notebook_path);
      const nb = await readNotebook(notebookPath);
      assert.deepEqual(nb.metadata.kernelspec, { name: 'alt-python', display_name: 'Alt Python', language: 'python' });
      // Resume picks the notebook's own kernel.
      await call(server.client, 'shutdown_session', { session_id: String(started.structuredContent?.session_id) });
      const resumed = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'alt again', notebook_path: notebookPath });
      assert.equal(resumed.structuredContent?.kernel_name, 'alt-python');
      await validateWithPython([notebookPath]);
    } finally {
      await server.close();
    }
  });

  it('answers input() with JLAB_MCP_STDIN_ANSWER when one is configured', async () => {
    const server = await spawnServer({ JLAB_MCP_STDIN_ANSWER: 'yes please' });
    try {
      const started = await call(server.client, 'start_new_session', { experiment_name: 'stdin' });
      const sid = String(started.structuredContent?.session_id);
      const answered = await call(server.client, 'execute_code', { session_id: sid, code: 'reply = input("continue? ")\nprint("got", repr(reply))' });
      assert.match(textOf(answered), /got 'yes please'/);
      const twice = await call(server.client, 'execute_code', { session_id: sid, code: 'print(input(), input())' });
      assert.match(textOf(twice), /yes please yes please/);
    } finally {
      await server.close();
    }
  });
});
