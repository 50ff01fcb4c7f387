import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { validateWithPython, validateWithSchema } from '../helpers/validateNotebook.js';
import { notebookSettled, readNotebook } from '../helpers/notebookFile.js';
import { waitUntil } from '../helpers/poll.js';

/** A kernel that speaks the Jupyter protocol but is not Python to jlab-mcp (ipykernel with another language name). */
const OTHER_KERNEL = `
from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp

class OtherKernel(IPythonKernel):
    implementation = "otherlang"
    language_info = dict(IPythonKernel.language_info, name="otherlang")

IPKernelApp.launch_instance(kernel_class=OtherKernel)
`;

/** Stands in for nvidia-smi on a GPU node: one A100, used by the process that calls it (the kernel) and by another. */
const FAKE_NVIDIA_SMI = `#!/bin/sh
case "$*" in
  *--query-gpu=*) echo "0, GPU-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b, NVIDIA A100-SXM4-80GB, 1200, 81920, 35, 40" ;;
  *--query-compute-apps=*) echo "GPU-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b, $PPID, /usr/bin/python3, 1100"
                           echo "GPU-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b, 999999, /other/user/python, 100" ;;
esac
`;

const TIMING_KEYS = ['iopub.status.busy', 'iopub.execute_input', 'shell.execute_reply.started', 'shell.execute_reply', 'iopub.status.idle'];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Polls the notebook file until `check` holds (the environment is recorded in the background), within 30 s. */
async function notebookWhen(file: string, check: (nb: Json) => boolean): Promise<Json> {
  let nb: Json | undefined;
  return waitUntil(`${file} in the expected state`, async () => (nb = await readNotebook<Json>(file).catch(() => undefined)) && check(nb) && nb, {
    detail: () => nb?.metadata,
  });
}

function ok(result: ToolResult): Json {
  assert.notEqual(result.isError, true, textOf(result));
  return result.structuredContent as Json;
}

function footerCount(result: ToolResult): number {
  const match = /In \[(\d+)\]/.exec(textOf(result));
  assert.ok(match, textOf(result));
  return Number(match[1]);
}

describe('know the kernel without touching the notebook (inspect_variables, kernel_resources, provenance, list_notebooks)', { timeout: 600_000 }, () => {
  let server: Spawned;
  let share: string;
  let fakeBin: string;
  let sid = '';
  let notebook = '';
  /** kernel_resources before any session was open. */
  let noSession: ToolResult;

  before(async () => {
    share = await mkdtemp(path.join(os.tmpdir(), 'jlab-inspect-kernels-'));
    const spec = path.join(share, 'kernels', 'otherlang');
    await mkdir(spec, { recursive: true });
    await writeFile(path.join(spec, 'other_kernel.py'), OTHER_KERNEL);
    await writeFile(
      path.join(spec, 'kernel.json'),
      JSON.stringify({
        argv: ['/usr/bin/python3', path.join(spec, 'other_kernel.py'), '-f', '{connection_file}'],
        display_name: 'Other language',
        language: 'otherlang',
      }),
    );
    fakeBin = path.join(share, 'fake-gpu-bin');
    await mkdir(fakeBin);
    await writeFile(path.join(fakeBin, 'nvidia-smi'), FAKE_NVIDIA_SMI);
    await chmod(path.join(fakeBin, 'nvidia-smi'), 0o755);
    server = await spawnServer({ JUPYTER_PATH: share });
    noSession = await call(server.client, 'kernel_resources', {});
    const started = ok(await call(server.client, 'start_new_session', { experiment_name: 'inspect' }));
    sid = String(started.session_id);
    notebook = String(started.notebook_path);
  });
  after(async () => {
    await server?.close();
  });

  it('inspect_variables lists numpy, pandas and torch-shaped variables without touching the notebook, the count or the history', async () => {
    ok(await call(server.client, 'execute_code', { session_id: sid, code: 'x = 1' }));
    // On a kernel that has not imported them, the inspection imports none of the array libraries.
    ok(await call(server.client, 'inspect_variables', { session_id: sid }));
    const loaded = await call(server.client, 'execute_code', {
      session_id: sid,
      code: "import sys\nprint([m for m in ('numpy', 'pandas', 'torch', 'xarray') if m in sys.modules])",
    });
    assert.match(textOf(loaded), /^\[\]\n/);
    const setup = [
      'import numpy as np, pandas as pd',
      'arr = np.arange(12, dtype=np.float32).reshape(3, 4)',
      'df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})',
      'class FakeTensor:',
      '    """Shaped like a torch.Tensor on a GPU; torch is not installed."""',
      '    shape = (2, 3)',
      '    dtype = "torch.float16"',
      '    device = "cuda:0"',
      '    requires_grad = True',
      '    def element_size(self): return 2',
      '    def nelement(self): return 6',
      '    def __repr__(self): return "tensor([[...]], device=\'cuda:0\', dtype=torch.float16)"',
      't = FakeTensor()',
      '_private = 5',
    ].join('\n');
    const ran = await call(server.client, 'execute_code', { session_id: sid, code: setup });
    const count = footerCount(ran);
    // The environment is recorded in the background at the session's start; it is there by now.
    await notebookWhen(notebook, (nb) => nb.metadata.jlab_mcp?.environments?.length === 1);
    await notebookSettled(notebook);
    const before = await readFile(notebook);

    const listed = ok(await call(server.client, 'inspect_variables', { session_id: sid }));
    assert.equal(listed.mode, 'list');
    const byName = Object.fromEntries((listed.variables as Json[]).map((v) => [v.name, v]));
    assert.deepEqual(Object.keys(byName).sort(), ['arr', 'df', 't', 'x']);
    assert.deepEqual([byName.arr.shape, byName.arr.dtype, byName.arr.memory_bytes], [[3, 4], 'float32', 48]);
    assert.equal(byName.arr.type, 'numpy.ndarray');
    assert.deepEqual(byName.df.shape, [3, 2]);
    assert.deepEqual(byName.df.columns, [
      { name: 'a', dtype: 'int64' },
      { name: 'b', dtype: 'object' },
    ]);
    assert.deepEqual(
      [byName.t.shape, byName.t.device, byName.t.dtype, byName.t.memory_bytes, byName.t.requires_grad],
      [[2, 3], 'cuda:0', 'torch.float16', 12, true],
    );
    assert.equal(byName.x.repr, '1');
    assert.ok((listed.modules as string[]).includes('np (numpy)'), JSON.stringify(listed.modules));
    assert.ok((listed.callables as string[]).includes('FakeTensor'));
    assert.ok(!JSON.stringify(listed).includes('jlab_mcp_inspect'), 'the inspector leaves no name in the user namespace');
    ok(await call(server.client, 'inspect_variables', { session_id: sid, names: ['df'] }));
    ok(await call(server.client, 'kernel_resources', { session_id: sid }));

    assert.ok((await readFile(notebook)).equals(before), 'the notebook file is byte for byte the same');
    const next = await call(server.client, 'execute_code', { session_id: sid, code: 'print(repr(_ih[-2].splitlines()[0]))' });
    assert.equal(footerCount(next), count + 1, 'the next cell gets the next execution count');
    assert.match(textOf(next), /^'import numpy as np, pandas as pd'/, 'the history holds the previous cell, not the inspections');
  });

  it('inspect_variables describes named variables in depth and names the missing ones', async () => {
    const detail = ok(await call(server.client, 'inspect_variables', { session_id: sid, names: ['df', 'arr', 'nope', 't.device'] }));
    assert.equal(detail.mode, 'detail');
    const [df, arr, device] = detail.variables as Json[];
    assert.equal(df!.index.len, 3);
    assert.match(df!.repr, /a\s+b\n0\s+1\s+x/);
    assert.ok((df!.mro as string[]).includes('pandas.core.frame.DataFrame'));
    assert.match(arr!.repr, /^array\(\[\[ 0\., {2}1\., {2}2\., {2}3\.\]/);
    assert.equal(device!.name, 't.device');
    assert.equal(device!.repr, "'cuda:0'");
    assert.deepEqual(detail.missing, [{ name: 'nope', error: "KeyError: 'nope'" }]);
    const bad = await call(server.client, 'inspect_variables', { session_id: sid, names: ['__import__("os").system("true")'] });
    assert.equal(bad.isError, true);
    assert.match(textOf(bad), /variable names/);
  });

  it('inspect_variables keeps a huge repr and hundreds of variables within the output budget', async () => {
    const code = [
      'class Big:',
      '    def __repr__(self): return "y" * 3_000_000',
      'big = Big()',
      'huge = "z" * 5_000_000',
      'for i in range(600): globals()[f"v{i:03}"] = list(range(40))',
    ].join('\n');
    ok(await call(server.client, 'execute_code', { session_id: sid, code }));
    const budget = 20_000; // JLAB_MCP_OUTPUT_BUDGET's default
    const deep = await call(server.client, 'inspect_variables', { session_id: sid, names: ['big', 'huge'] });
    const deepReport = ok(deep);
    assert.ok(textOf(deep).length <= budget, `${textOf(deep).length} characters`);
    const [big, huge] = deepReport.variables as Json[];
    assert.match(big!.repr, /^y+\n… \[\d+ characters omitted\] …\ny+$/);
    assert.match(huge!.repr, /\[5000000 long\]/);
    const all = await call(server.client, 'inspect_variables', { session_id: sid });
    const report = ok(all);
    assert.ok(textOf(all).length <= budget, `${textOf(all).length} characters`);
    assert.equal(report.truncated, true);
    assert.ok(
      report.omitted > 0 && (report.variables as Json[]).length + report.omitted >= 600,
      JSON.stringify({ omitted: report.omitted, n: report.variables.length }),
    );
    assert.match(report.note, /output budget/);
    ok(await call(server.client, 'execute_code', { session_id: sid, code: 'del big, huge\nfor i in range(600): del globals()[f"v{i:03}"]' }));
  });

  it('inspect_variables and kernel_resources answer at once that the kernel is busy while a cell runs', async () => {
    const running = await call(server.client, 'execute_code', {
      session_id: sid,
      code: 'import time\nprint("sleeping", flush=True)\ntime.sleep(120)',
      timeout: 0,
    });
    assert.match(textOf(running), /still running|Queued/i);
    // Until the kernel has begun the cell (its first line printed), within 30 s.
    let seen = textOf(running);
    for (const deadline = Date.now() + 30_000; !seen.includes('sleeping'); ) {
      assert.ok(Date.now() < deadline, `the cell never started: ${seen}`);
      seen += textOf(await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 1 }));
    }
    for (const tool of ['inspect_variables', 'kernel_resources']) {
      const busy = await call(server.client, tool, { session_id: sid });
      assert.equal(busy.isError, true, tool);
      assert.match(textOf(busy), /KERNEL_UNAVAILABLE.*busy with cell \d+/);
      assert.match(textOf(busy), /wait_for_cell/);
    }
    const stopped = ok(await call(server.client, 'interrupt_kernel', { session_id: sid }));
    assert.equal(stopped.state, 'stopped');
    ok(await call(server.client, 'wait_for_cell', { session_id: sid, timeout: 30 }));
    ok(await call(server.client, 'inspect_variables', { session_id: sid }));
    ok(await call(server.client, 'delete_cell', { session_id: sid, cell_index: -1 }));
  });

  it("kernel_resources measures the kernel's machine: CPUs, memory, RSS, and no GPU without nvidia-smi", async () => {
    const report = ok(await call(server.client, 'kernel_resources', {}));
    assert.equal(report.session_id, sid, 'the one open session is measured when none is named');
    assert.equal(report.measured, true);
    assert.equal(report.hostname, os.hostname());
    assert.equal(report.cpu.count, os.cpus().length);
    assert.equal(report.cpu.load_avg.length, 3);
    assert.ok(report.memory.total_bytes > report.memory.used_bytes && report.memory.used_bytes > 0);
    assert.ok(report.kernel_process.rss_bytes > 10 * 2 ** 20, 'a Python kernel holds more than 10 MB');
    assert.notEqual(report.kernel_process.pid, server.pid());
    assert.deepEqual(report.gpu, { available: false, reason: 'nvidia-smi is not on PATH on this host' });
    assert.match(report.summary, /no GPU/);
    assert.equal(report.slurm, undefined);
    // Before any session, the local backend's machine (where kernels will run) was measured from jlab-mcp.
    const before = ok(noSession);
    assert.equal(before.session_id, undefined);
    assert.equal(before.hostname, os.hostname());
    assert.equal(before.cpu.count, os.cpus().length);
    assert.deepEqual(before.gpu, { available: false, reason: 'nvidia-smi is not on PATH on this host' });
    assert.match(before.measured_on, /no session/);
  });

  it("kernel_resources reads GPUs from nvidia-smi and marks this kernel's GPU process (a fixture nvidia-smi)", async () => {
    ok(
      await call(server.client, 'execute_code', {
        session_id: sid,
        code: `import os\n_path = os.environ["PATH"]\nos.environ["PATH"] = ${JSON.stringify(fakeBin)} + ":" + _path`,
      }),
    );
    try {
      const report = ok(await call(server.client, 'kernel_resources', { session_id: sid }));
      const [gpu] = report.gpu.gpus as Json[];
      assert.equal(gpu!.name, 'NVIDIA A100-SXM4-80GB');
      assert.deepEqual([gpu!.memory_used_mib, gpu!.memory_total_mib, gpu!.utilization_percent], [1200, 81920, 35]);
      assert.equal(gpu!.used_by_this_kernel, true);
      const mine = (gpu!.processes as Json[]).filter((p) => p.this_kernel);
      assert.deepEqual(
        mine.map((p) => p.pid),
        [report.kernel_process.pid],
      );
      assert.equal((gpu!.processes as Json[]).find((p) => p.pid === 999999)?.this_kernel, false);
      assert.match(report.summary, /GPU 0 NVIDIA A100-SXM4-80GB: 1200 of 81920 MiB, 35% busy, used by this kernel/);
    } finally {
      ok(await call(server.client, 'execute_code', { session_id: sid, code: 'os.environ["PATH"] = _path' }));
    }
  });

  it("every cell records JupyterLab's timing and its run; the environment is on record once per session (nbformat-valid)", async () => {
    const nb = await readNotebook(notebook);
    const envs = nb.metadata.jlab_mcp.environments as Json[];
    assert.equal(envs.length, 1);
    const [env] = envs;
    assert.equal(env!.session_id, sid);
    assert.equal(env!.hostname, os.hostname());
    assert.match(env!.python, /^CPython 3\./);
    assert.match(env!.packages.numpy, /^\d+\.\d+/);
    assert.match(env!.packages.pandas, /^\d+\.\d+/);
    assert.deepEqual(env!.gpus, []);
    // The full list is next to the notebook, and its hash is the recorded one.
    const listText = await readFile(path.join(path.dirname(notebook), env!.pip_freeze.file), 'utf8');
    const lines = listText.split('\n').filter((line) => line && !line.startsWith('#'));
    assert.equal(lines.length, env!.pip_freeze.count);
    assert.ok(lines.some((line) => /^numpy==/i.test(line)));
    assert.equal(
      createHash('sha256')
        .update(`${lines.join('\n')}\n`)
        .digest('hex'),
      env!.pip_freeze.sha256,
    );
    const code = (nb.cells as Json[]).filter((cell) => cell.cell_type === 'code');
    assert.ok(code.length >= 6);
    for (const cell of code) {
      assert.deepEqual(Object.keys(cell.metadata.execution).sort(), [...TIMING_KEYS].sort(), JSON.stringify(cell.metadata));
      for (const key of TIMING_KEYS) assert.ok(Number.isFinite(Date.parse(cell.metadata.execution[key])), key);
      const runs = cell.metadata.jlab_mcp_runs as Json[];
      assert.equal(runs.length, 1);
      assert.deepEqual(
        [runs[0]!.session_id, runs[0]!.host, runs[0]!.environment, runs[0]!.execution_count],
        [sid, os.hostname(), env!.id, cell.execution_count],
      );
      assert.ok(runs[0]!.duration_s >= 0 && Date.parse(runs[0]!.ended) >= Date.parse(runs[0]!.started));
    }
    await validateWithPython([notebook]);
    await validateWithSchema(notebook);
  });

  it('resume and continue add runs and environments, never overwriting (nbformat-valid)', async () => {
    const before = await readNotebook(notebook);
    ok(await call(server.client, 'shutdown_session', { session_id: sid }));
    const resumed = ok(await call(server.client, 'start_session_resume_notebook', { experiment_name: 'inspect again', notebook_path: notebook }));
    assert.equal(resumed.restored_with_errors?.length ?? 0, 0, JSON.stringify(resumed));
    sid = String(resumed.session_id);
    const after = await notebookWhen(notebook, (nb) => nb.metadata.jlab_mcp?.environments?.length === 2);
    assert.deepEqual(after.metadata.jlab_mcp.environments[0], before.metadata.jlab_mcp.environments[0]);
    assert.equal(after.metadata.jlab_mcp.environments[1].session_id, sid);
    const beforeCode = (before.cells as Json[]).filter((cell) => cell.cell_type === 'code');
    const afterCode = (after.cells as Json[]).filter((cell) => cell.cell_type === 'code');
    for (const [i, cell] of afterCode.entries()) {
      const runs = cell.metadata.jlab_mcp_runs as Json[];
      assert.deepEqual(runs.slice(0, -1), beforeCode[i]!.metadata.jlab_mcp_runs, 'earlier runs are kept as they were');
      assert.equal(runs.at(-1)!.session_id, sid);
      assert.equal(runs.at(-1)!.environment, after.metadata.jlab_mcp.environments[1].id);
      assert.notEqual(cell.metadata.execution['iopub.status.busy'], beforeCode[i]!.metadata.execution['iopub.status.busy']);
    }
    const continued = ok(await call(server.client, 'start_session_continue_notebook', { experiment_name: 'inspect fork', notebook_path: notebook }));
    const copy = String(continued.notebook_path);
    ok(await call(server.client, 'run_cell', { session_id: String(continued.session_id), cell_index: 0 }));
    const forked = await notebookWhen(copy, (nb) => nb.metadata.jlab_mcp?.environments?.length === 3);
    assert.equal((forked.cells[0].metadata.jlab_mcp_runs as Json[]).length, 3);
    assert.equal(forked.cells[0].metadata.jlab_mcp_runs[2].session_id, continued.session_id);
    await validateWithPython([notebook, copy]);
    await validateWithSchema(copy);
  });

  it('list_notebooks finds notebooks with cell counts, last run and open sessions; hidden ones skipped, outside refused', async () => {
    const dir = server.notebookDir;
    const valid = await readFile(notebook, 'utf8');
    await mkdir(path.join(dir, 'sub'), { recursive: true });
    await mkdir(path.join(dir, '.hidden'), { recursive: true });
    await writeFile(path.join(dir, 'sub', 'deep.ipynb'), valid);
    await writeFile(path.join(dir, '.hidden', 'secret.ipynb'), valid);
    await writeFile(path.join(dir, '.dotted.ipynb'), valid);
    await writeFile(path.join(dir, 'broken.ipynb'), '{ not json');
    const listing = ok(await call(server.client, 'list_notebooks', {}));
    const byPath = Object.fromEntries((listing.notebooks as Json[]).map((entry) => [entry.path, entry]));
    assert.deepEqual(Object.keys(byPath).sort(), ['broken.ipynb', 'inspect.ipynb', 'inspect_continued.ipynb', 'sub/deep.ipynb']);
    const nb = await readNotebook(notebook);
    assert.equal(byPath['inspect.ipynb'].cells, nb.cells.length);
    assert.equal(byPath['inspect.ipynb'].last_run_from, 'execution metadata');
    const lastIdle = (nb.cells as Json[]).filter((c) => c.cell_type === 'code').map((c) => Date.parse(c.metadata.execution['iopub.status.idle']));
    assert.equal(Date.parse(byPath['inspect.ipynb'].last_run), Math.max(...lastIdle));
    assert.deepEqual(
      byPath['inspect.ipynb'].open_in.map((s: Json) => s.session_id),
      [sid],
    );
    assert.equal(byPath['inspect_continued.ipynb'].open_in.length, 1);
    assert.deepEqual(byPath['sub/deep.ipynb'].open_in, []);
    assert.equal(byPath['broken.ipynb'].cells, null);
    assert.equal(byPath['broken.ipynb'].last_run_from, 'file modified time');
    const sub = ok(await call(server.client, 'list_notebooks', { path: 'sub' }));
    assert.deepEqual(
      (sub.notebooks as Json[]).map((entry) => entry.path),
      ['sub/deep.ipynb'],
    );
    const outside = await call(server.client, 'list_notebooks', { path: '..' });
    assert.equal(outside.isError, true);
    assert.match(textOf(outside), /PATH_OUTSIDE_NOTEBOOK_DIR/);
  });

  it('a non-Python kernel: inspect_request for a named variable, a plain "cannot" for the rest', async () => {
    const started = ok(await call(server.client, 'start_new_session', { experiment_name: 'other', kernel_name: 'otherlang' }));
    const other = String(started.session_id);
    assert.equal(started.language, 'otherlang');
    ok(await call(server.client, 'execute_code', { session_id: other, code: 'answer = 41' }));
    const listed = ok(await call(server.client, 'inspect_variables', { session_id: other }));
    assert.equal(listed.mode, 'unsupported');
    assert.match(listed.note, /needs a Python kernel.*names=/);
    const named = ok(await call(server.client, 'inspect_variables', { session_id: other, names: ['answer', 'missing_name'] }));
    assert.equal(named.mode, 'inspect_request');
    assert.equal(named.variables[0].found, true);
    assert.match(named.variables[0].description, /int/);
    assert.equal(named.variables[1].found, false);
    const resources = ok(await call(server.client, 'kernel_resources', { session_id: other }));
    assert.equal(resources.measured, false);
    assert.match(resources.summary, /needs a Python kernel/);
    const which = await call(server.client, 'kernel_resources', {});
    assert.equal(which.isError, true);
    assert.match(textOf(which), new RegExp(`INVALID_ARGUMENT[\\s\\S]*sessions are open[\\s\\S]*${other}`));
    const nb = await notebookWhen(String(started.notebook_path), (n) => n.metadata.jlab_mcp?.environments?.length === 1);
    assert.match(nb.metadata.jlab_mcp.environments[0].notes[0], /not a Python kernel/);
    assert.equal(nb.cells[0].metadata.jlab_mcp_runs[0].status, 'ok');
    await validateWithPython([String(started.notebook_path)]);
  });
});
