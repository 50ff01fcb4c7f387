import assert from 'node:assert/strict';
import { readFile, readdir, writeFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, textOf, type Spawned } from './mcpClient.js';
import { validateWithPython, validateWithSchema } from './validateNotebook.js';
import { readNotebook } from './notebookFile.js';

export interface FlowOptions {
  /** Starts the built binary with the backend under test. */
  spawn: () => Promise<Spawned>;
  /** The backend kind the status resource must report. */
  backend: 'local' | 'slurm' | 'external';
  skip?: string | false;
}

/**
 * The reference's whole flow through the built binary and the official MCP client over stdio:
 * new session → print, value, figure → edit_cell(-1) → markdown → shutdown → resume (state
 * back) → continue (fork, original untouched), and nbformat.validate on every notebook.
 * Run against each backend.
 */
export function defineReferenceFlow(title: string, options: FlowOptions): void {
  describe(title, { skip: options.skip, timeout: 900_000 }, () => {
    let server: Spawned;
    let sessionId = '';
    let notebookPath = '';

    before(async () => {
      server = await options.spawn();
    });
    after(async () => {
      await server?.close();
    });

    it('lists every tool of the reference and ours, with schemas', async () => {
      const { tools } = await server.client.listTools();
      const names = tools.map((tool) => tool.name).sort();
      for (const name of [
        'start_new_session',
        'start_session_resume_notebook',
        'start_session_continue_notebook',
        'execute_code',
        'edit_cell',
        'add_markdown',
        'shutdown_session',
        'list_sessions',
        'list_kernels',
        'run_cell',
        'delete_cell',
        'edit_markdown',
      ]) {
        assert.ok(names.includes(name), name);
      }
      const execute = tools.find((tool) => tool.name === 'execute_code')!;
      assert.deepEqual(Object.keys(execute.inputSchema.properties ?? {}).sort(), [
        'after_cell_id',
        'before_cell_id',
        'cell_index',
        'code',
        'scratch',
        'session_id',
        'timeout',
      ]);
      assert.deepEqual(execute.inputSchema.required?.sort(), ['code', 'session_id']);
    });

    it('starts a session with a notebook and structured content', async () => {
      const result = await call(server.client, 'start_new_session', { experiment_name: 'e2e flow' });
      assert.equal(result.isError, undefined, textOf(result));
      sessionId = String(result.structuredContent?.session_id);
      notebookPath = String(result.structuredContent?.notebook_path);
      assert.match(sessionId, /^[0-9a-f]{8}$/);
      assert.equal(notebookPath, path.join(server.notebookDir, 'e2e_flow.ipynb'));
      assert.equal(result.structuredContent?.kernel_name, 'python3');
      assert.deepEqual(JSON.parse(textOf(result)), result.structuredContent);
    });

    it('runs a print, a value and a matplotlib figure', async () => {
      const printed = await call(server.client, 'execute_code', { session_id: sessionId, code: 'x = 21\nprint("hello from the kernel")' });
      assert.match(textOf(printed), /^hello from the kernel/);
      assert.match(textOf(printed), /cell 0 \(id [0-9a-f]{8}\) · In \[1\] · ok/);
      const value = await call(server.client, 'execute_code', { session_id: sessionId, code: 'x * 2' });
      assert.match(textOf(value), /^42\n/);
      const figure = await call(server.client, 'execute_code', {
        session_id: sessionId,
        code: 'import matplotlib.pyplot as plt\nplt.plot([3, 1, 2])\nplt.show()',
      });
      const image = figure.content.find((block) => block.type === 'image');
      assert.equal(image?.mimeType, 'image/png');
      assert.ok((image?.data?.length ?? 0) > 1000);
    });

    it('returns a Python error as ename: evalue with a clean traceback', async () => {
      const result = await call(server.client, 'execute_code', { session_id: sessionId, code: '1/0' });
      const text = textOf(result);
      assert.match(text, /^ZeroDivisionError: division by zero/);
      assert.ok(!text.includes('\x1b'), 'no ANSI codes');
    });

    it('edits the last cell, checking the index before running anything', async () => {
      const bad = await call(server.client, 'edit_cell', { session_id: sessionId, cell_index: 50, code: 'print("must not run")' });
      assert.equal(bad.isError, true);
      assert.match(textOf(bad), /CELL_INDEX_OUT_OF_RANGE/);
      const edited = await call(server.client, 'edit_cell', { session_id: sessionId, cell_index: -1, code: 'print(x + 1)' });
      assert.match(textOf(edited), /^22\n/);
      const nb = await readNotebook(notebookPath);
      assert.equal(nb.cells.length, 4);
      assert.deepEqual(nb.cells[3].source, ['print(x + 1)']);
      assert.deepEqual(nb.cells[3].outputs, [{ output_type: 'stream', name: 'stdout', text: '22\n' }]);
      assert.ok(!JSON.stringify(nb).includes('must not run'));
    });

    it('adds markdown, inserts and deletes cells', async () => {
      const md = await call(server.client, 'add_markdown', { session_id: sessionId, markdown: '# Results\nAll good.' });
      assert.equal((md.structuredContent?.cell as { index: number }).index, 4);
      const inserted = await call(server.client, 'execute_code', { session_id: sessionId, code: 'y = 5', cell_index: 0 });
      assert.match(textOf(inserted), /cell 0 \(id /);
      const deleted = await call(server.client, 'delete_cell', { session_id: sessionId, cell_index: 0 });
      assert.equal(deleted.structuredContent?.deleted_source, 'y = 5');
      const editMd = await call(server.client, 'edit_markdown', { session_id: sessionId, cell_index: -1, markdown: '# Results\nStill good.' });
      assert.equal(editMd.isError, undefined, textOf(editMd));
      const wrongType = await call(server.client, 'edit_markdown', { session_id: sessionId, cell_index: 0, markdown: 'x' });
      assert.match(textOf(wrongType), /NOT_A_MARKDOWN_CELL/);
      const failing = await call(server.client, 'execute_code', { session_id: sessionId, code: 'undefined_name' });
      assert.match(textOf(failing), /^NameError: name 'undefined_name' is not defined/);
    });

    it('shows sessions in list_sessions and the status resource, without the token', async () => {
      const listed = await call(server.client, 'list_sessions');
      const sessions = listed.structuredContent?.sessions as Array<{ session_id: string; notebook_path: string }>;
      assert.deepEqual(
        sessions.map((s) => s.session_id),
        [sessionId],
      );
      const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
      const body = JSON.parse(String((status.contents[0] as { text: string }).text));
      assert.equal(body.server.state, 'ready');
      assert.equal(body.server.backend.kind, options.backend);
      assert.match(body.server.url, /^https?:\/\/[^/?]+:\d+\/$/);
      assert.equal(body.sessions[0].notebook_path, notebookPath);
      assert.ok(!JSON.stringify(body).includes('token'));
      const notebook = await server.client.readResource({ uri: `jlab-mcp://sessions/${sessionId}/notebook` });
      assert.equal(JSON.parse(String((notebook.contents[0] as { text: string }).text)).cells.length, 6);
      const kernels = await call(server.client, 'list_kernels');
      assert.equal(kernels.structuredContent?.default, 'python3');
    });

    it('shuts the session down; later calls on it say how to go on', async () => {
      const result = await call(server.client, 'shutdown_session', { session_id: sessionId });
      assert.match(textOf(result), /shut down/);
      const after = await call(server.client, 'execute_code', { session_id: sessionId, code: '1' });
      assert.equal(after.isError, true);
      assert.match(textOf(after), /UNKNOWN_SESSION[\s\S]*start_new_session/);
    });

    it('resumes: fresh kernel, every cell re-run in place, state back, errors listed', async () => {
      const before = await readFile(notebookPath, 'utf8');
      const result = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'resumed', notebook_path: path.basename(notebookPath) });
      assert.equal(result.isError, undefined, textOf(result));
      assert.equal(result.structuredContent?.notebook_path, notebookPath);
      const errors = result.structuredContent?.restored_with_errors as Array<{ cell: { index: number }; ename: string }>;
      assert.deepEqual(
        errors.map((e) => [e.cell.index, e.ename]),
        [[5, 'NameError']],
      );
      const resumedId = String(result.structuredContent?.session_id);
      const state = await call(server.client, 'execute_code', { session_id: resumedId, code: 'print(x)' });
      assert.match(textOf(state), /^21\n/);
      const nb = await readNotebook(notebookPath);
      assert.equal(nb.cells.length, JSON.parse(before).cells.length + 1);
      const twice = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'again', notebook_path: notebookPath });
      assert.match(textOf(twice), /already open in session/);
      await call(server.client, 'shutdown_session', { session_id: resumedId });
    });

    it('continues: a fork in a new file, original untouched, fresh kernel', async () => {
      const original = await readFile(notebookPath, 'utf8');
      const result = await call(server.client, 'start_session_continue_notebook', { experiment_name: 'fork', notebook_path: notebookPath });
      assert.equal(result.isError, undefined, textOf(result));
      const forkPath = String(result.structuredContent?.notebook_path);
      assert.equal(forkPath, path.join(server.notebookDir, 'e2e_flow_continued.ipynb'));
      assert.equal(result.structuredContent?.original_notebook, notebookPath);
      const forkId = String(result.structuredContent?.session_id);
      const fresh = await call(server.client, 'execute_code', { session_id: forkId, code: "print('x' in globals())" });
      assert.match(textOf(fresh), /^False\n/);
      assert.equal(await readFile(notebookPath, 'utf8'), original);
      const fork = await readNotebook(forkPath);
      assert.equal(fork.cells.length, JSON.parse(original).cells.length + 1);
      const again = await call(server.client, 'start_session_continue_notebook', { experiment_name: 'fork2', notebook_path: notebookPath });
      assert.equal(again.structuredContent?.notebook_path, path.join(server.notebookDir, 'e2e_flow_continued-2.ipynb'));
      await call(server.client, 'shutdown_session', { session_id: forkId });
      await call(server.client, 'shutdown_session', { session_id: String(again.structuredContent?.session_id) });
    });

    it('refuses notebook paths outside the notebook directory', async () => {
      const outside = path.join(path.dirname(server.notebookDir), `${path.basename(server.notebookDir)}2.ipynb`);
      await writeFile(outside, '{}');
      await symlink(outside, path.join(server.notebookDir, 'escape.ipynb'));
      for (const bad of ['../etc/passwd', '/etc/passwd', outside, 'escape.ipynb']) {
        const result = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'x', notebook_path: bad });
        assert.equal(result.isError, true, bad);
        assert.match(textOf(result), /PATH_OUTSIDE_NOTEBOOK_DIR/, bad);
      }
    });

    it('answers bad input with clear errors', async () => {
      const unknown = await call(server.client, 'execute_code', { session_id: 'nope', code: '1' });
      assert.match(textOf(unknown), /UNKNOWN_SESSION/);
      const badKernel = await call(server.client, 'start_new_session', { experiment_name: 'k', kernel_name: 'no-such-kernel' });
      assert.equal(badKernel.isError, true);
      assert.match(textOf(badKernel), /No kernel named "no-such-kernel"[\s\S]*python3/);
      // The answer is clear, so the log says it in one line, not with the server's Python traceback at error level.
      assert.doesNotMatch(server.stderr(), /error: Traceback/);
      assert.match(server.stderr(), /info: the Jupyter server refused a request: NoSuchKernel: No such kernel named no-such-kernel/);
      const missing = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'x', notebook_path: 'missing.ipynb' });
      assert.match(textOf(missing), /NOTEBOOK_NOT_FOUND/);
    });

    it('runs different sessions in parallel and one session serially', async () => {
      const a = String((await call(server.client, 'start_new_session', { experiment_name: 'par a' })).structuredContent?.session_id);
      const b = String((await call(server.client, 'start_new_session', { experiment_name: 'par b' })).structuredContent?.session_id);
      // Each cell reports when it started and ended by the kernel's clock: overlap is behaviour, not speed.
      const timed = (name: string) => `import time; t0 = time.time(); time.sleep(1.5); print("${name}", t0, time.time())`;
      const [ra, rb] = await Promise.all([
        call(server.client, 'execute_code', { session_id: a, code: timed('a') }),
        call(server.client, 'execute_code', { session_id: b, code: timed('b') }),
      ]);
      const span = (result: typeof ra, name: string) => {
        const match = new RegExp(`^${name} ([\\d.]+) ([\\d.]+)\\n`).exec(textOf(result));
        assert.ok(match, textOf(result));
        return [Number(match[1]), Number(match[2])] as const;
      };
      const [aStart, aEnd] = span(ra, 'a');
      const [bStart, bEnd] = span(rb, 'b');
      assert.ok(aStart < bEnd && bStart < aEnd, `the two sessions' cells overlapped: a ${aStart}–${aEnd}, b ${bStart}–${bEnd}`);
      // Sent at once on one session: they run one after the other, in the order sent, each with its own cell.
      const serial = await Promise.all([1, 2, 3].map((i) => call(server.client, 'execute_code', { session_id: a, code: `print(${i})` })));
      serial.forEach(
        (result, i) => void assert.match(textOf(result), new RegExp(`^${i + 1}\\n[\\s\\S]*\\[cell ${i + 1} \\(id \\w+\\) · In \\[${i + 2}\\] · ok`)),
      );
      const nb = await readNotebook(path.join(server.notebookDir, 'par_a.ipynb'));
      assert.deepEqual(
        nb.cells.map((c: { source: string[] }) => c.source.join('')),
        [timed('a'), 'print(1)', 'print(2)', 'print(3)'],
      );
      assert.deepEqual(
        nb.cells.map((c: { execution_count: number }) => c.execution_count),
        [1, 2, 3, 4],
      );
    });

    it('wrote only valid notebooks (nbformat.validate and the 4.5 schema)', async () => {
      const files = (await readdir(server.notebookDir))
        .filter((f) => f.endsWith('.ipynb') && f !== 'escape.ipynb')
        .map((f) => path.join(server.notebookDir, f));
      assert.ok(files.length >= 5);
      for (const file of files) await validateWithSchema(file);
      await validateWithPython(files);
    });
  });
}
