import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../../src/backends/local/localBackend.js';
import { KernelHandle } from '../../src/jupyter/kernel.js';
import { JupyterRestClient } from '../../src/jupyter/restClient.js';
import type { ServerEndpoint } from '../../src/jupyter/endpoint.js';
import { NotebookDocument } from '../../src/notebook/document.js';
import { CellRun } from '../../src/sessions/cellRun.js';
import { JlabError } from '../../src/util/errors.js';
import { guardStdout, setLogLevel } from '../../src/util/log.js';
import { toAgentContent } from '../../src/output/agentContent.js';
import { stripTerminalControls } from '../../src/output/ansi.js';
import { validateWithPython, validateWithSchema } from '../helpers/validateNotebook.js';

guardStdout();
setLogLevel('warn');

describe('Jupyter layer against a real local server', () => {
  let dir: string;
  let backend: LocalBackend;
  let endpoint: ServerEndpoint;
  let rest: JupyterRestClient;
  let kernel: KernelHandle;
  let notebook: NotebookDocument;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-int-'));
    backend = new LocalBackend({ rootDir: dir, startTimeoutMs: 60_000 });
    endpoint = await backend.start(new AbortController().signal);
    rest = new JupyterRestClient(endpoint);
    kernel = await KernelHandle.start(rest, undefined, 60_000);
    notebook = NotebookDocument.create(path.join(dir, 'int.ipynb'), kernel.spec, kernel.languageInfo);
  });

  after(async () => {
    await kernel?.shutdown();
    await backend?.stop();
  });

  async function run(code: string) {
    const cell = notebook.newCodeCell(code);
    notebook.insert(cell, notebook.cells.length);
    return new CellRun(cell, kernel, notebook, { outputLimit: 2_000_000, saveIntervalMs: 3000, saveWhenDone: true }).done;
  }

  it('keeps the token out of argv and environment, in 0600 files', async () => {
    const pid = (backend.describe() as { pid: number }).pid;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    assert.ok(!cmdline.includes(endpoint.token), 'token in argv');
    assert.ok(!environ.includes(endpoint.token), 'token in environment');
    assert.match(cmdline, /127\.0\.0\.1/);
    const runtimeDir = (backend.describe() as { runtimeDir: string }).runtimeDir;
    assert.equal((await stat(runtimeDir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(runtimeDir, 'token'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(runtimeDir, 'jlab_mcp_server_config.py'))).mode & 0o777, 0o600);
    const refused = await fetch(new URL('api/kernels', endpoint.baseUrl));
    assert.equal(refused.status, 403, 'the server must refuse calls without the token');
  });

  it('reports kernelspec and language_info from the live kernel', () => {
    assert.equal(kernel.spec.name, 'python3');
    assert.equal(kernel.languageInfo.name, 'python');
  });

  it('collects a stream and a value with execution counts', async () => {
    const printed = await run('print("hello")\nprint("world")');
    assert.equal(printed.status, 'ok');
    assert.deepEqual(printed.outputs, [{ output_type: 'stream', name: 'stdout', text: 'hello\nworld\n' }]);
    const value = await run('40 + 2');
    assert.equal(value.executionCount, (printed.executionCount ?? 0) + 1);
    assert.deepEqual(value.outputs, [{ output_type: 'execute_result', data: { 'text/plain': '42' }, metadata: {}, execution_count: value.executionCount }]);
  });

  it('collects a matplotlib figure as a PNG with its whole mime bundle', async () => {
    const result = await run('import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title("t")\nplt.show()');
    assert.equal(result.status, 'ok');
    const image = result.outputs.find((o) => o.output_type === 'display_data');
    const data = image?.data as Record<string, string>;
    assert.ok(data['image/png'] && data['image/png'].length > 1000, 'png present');
    assert.ok(data['text/plain'], 'text/plain kept in the bundle');
    const agent = await toAgentContent(result.outputs, { textBudget: 1000, maxImages: 2, cellLabel: 'c' });
    const png = Buffer.from((agent.find((c) => c.type === 'image') as { data: string }).data, 'base64');
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
  });

  it('records an error with ename, evalue and traceback', async () => {
    const result = await run('def f():\n    raise ValueError("bad value")\nf()');
    assert.equal(result.status, 'error');
    const error = result.outputs.find((o) => o.output_type === 'error') as { ename: string; evalue: string; traceback: string[] };
    assert.equal(error.ename, 'ValueError');
    assert.equal(error.evalue, 'bad value');
    assert.ok(stripTerminalControls(error.traceback.join('\n')).includes('raise ValueError'));
  });

  it('answers input() at once with an error instead of hanging', async () => {
    const result = await run('input("name? ")');
    assert.equal(result.status, 'error');
    const error = result.outputs.find((o) => o.output_type === 'error') as { ename: string };
    assert.equal(error.ename, 'StdinNotAvailable');
  });

  it('honours clear_output(wait=True)', async () => {
    const result = await run('from IPython.display import clear_output\nfor i in range(3):\n    clear_output(wait=True)\n    print(i)');
    assert.deepEqual(result.outputs, [{ output_type: 'stream', name: 'stdout', text: '2\n' }]);
  });

  it('ends a cell whose kernel dies, records it, and the restarted kernel runs the next cell', async () => {
    await run('x = 1');
    const died = await run('import os\nprint("before", flush=True)\nos._exit(1)');
    assert.equal(died.status, 'kernel_died');
    const note = died.outputs.find((o) => o.output_type === 'error') as { ename: string };
    assert.equal(note.ename, 'KernelDied');
    const next = await run('print("x" in globals())');
    assert.equal(next.status, 'ok');
    assert.deepEqual(next.outputs, [{ output_type: 'stream', name: 'stdout', text: 'False\n' }]);
  });

  it('wrote a notebook that nbformat and the 4.5 schema accept', async () => {
    await notebook.save();
    await validateWithSchema(notebook.path);
    await validateWithPython([notebook.path]);
  });

  it('refuses an unknown kernel name with the list of available ones in the REST error', async () => {
    await assert.rejects(KernelHandle.start(rest, 'no-such-kernel', 10_000), (e: unknown) => e instanceof JlabError);
    const specs = await rest.kernelSpecs();
    assert.ok(specs.specs.some((s) => s.name === 'python3'));
  });
});

describe('LocalBackend failures', () => {
  it('reports a Jupyter command that exits at once, with its stderr tail', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-int-'));
    const backend = new LocalBackend({ rootDir: dir, startTimeoutMs: 20_000, jupyterCommand: `/bin/sh -c "echo boom-on-stderr >&2; exit 3"` });
    await assert.rejects(
      backend.start(new AbortController().signal),
      (e: unknown) => e instanceof JlabError && e.code === 'SERVER_START_FAILED' && /exited \(code 3\)/.test(e.message) && /boom-on-stderr/.test(e.message),
    );
    await backend.stop();
  });

  it('names the install when the command is missing', async () => {
    const backend = new LocalBackend({ rootDir: os.tmpdir(), startTimeoutMs: 5_000, jupyterCommand: 'no-such-jupyter-binary' });
    await assert.rejects(
      backend.start(new AbortController().signal),
      (e: unknown) => e instanceof JlabError && /apt-get install jupyter-server/.test(e.hint ?? ''),
    );
  });
});
