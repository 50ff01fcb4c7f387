import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../../src/backends/local/localBackend.js';
import { executeOnKernel } from '../../src/jupyter/execute.js';
import { KernelHandle } from '../../src/jupyter/kernel.js';
import { JupyterRestClient } from '../../src/jupyter/restClient.js';
import { guardStdout, setLogLevel } from '../../src/util/log.js';

guardStdout();
setLogLevel('warn');

/** Rows of IPython's `history` table in a history file (0 when the file or the table is missing). */
function historyRows(file: string): number {
  if (!existsSync(file)) return 0;
  const script =
    'import sqlite3,sys\ntry:\n print(sqlite3.connect(sys.argv[1]).execute("select count(*) from history").fetchone()[0])\nexcept sqlite3.OperationalError:\n print(0)';
  return Number(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }).trim());
}

/**
 * assets/kernel/python_setup.py moves IPython's history of the kernels jlab-mcp runs to memory
 * (as nbclient does): the profile's history.sqlite gains no rows, the kernel's own history still
 * works, and a person who configured a history file keeps it. The kernels get their own
 * IPYTHONDIR (inherited through the Jupyter server), so the machine's profile is left alone.
 */
describe("the kernel's IPython history", () => {
  let dir: string;
  let ipythonDir: string;
  let backend: LocalBackend;
  let rest: JupyterRestClient;
  const kernels: KernelHandle[] = [];
  const savedIpythonDir = process.env.IPYTHONDIR;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-history-'));
    ipythonDir = path.join(dir, 'ipython');
    process.env.IPYTHONDIR = ipythonDir;
    backend = new LocalBackend({ rootDir: dir, startTimeoutMs: 60_000 });
    rest = new JupyterRestClient(await backend.start(AbortSignal.timeout(70_000)));
  });

  after(async () => {
    for (const kernel of kernels) await kernel.shutdown();
    await backend?.stop();
    if (savedIpythonDir === undefined) delete process.env.IPYTHONDIR;
    else process.env.IPYTHONDIR = savedIpythonDir;
    await rm(dir, { recursive: true, force: true });
  });

  async function startKernel(): Promise<KernelHandle> {
    const kernel = await KernelHandle.start(rest, undefined, 60_000);
    kernels.push(kernel);
    return kernel;
  }

  /** Runs `code`; what it printed. */
  async function printed(kernel: KernelHandle, code: string): Promise<string> {
    let text = '';
    const { end } = executeOnKernel(kernel, code, (message) => {
      if (message.header.msg_type === 'stream') text += (message.content as { text: string }).text;
    });
    assert.equal((await end).kind, 'ok', `${code} failed`);
    return text;
  }

  it('goes to memory: the profile file gains nothing, %history and _i still work', async () => {
    const kernel = await startKernel();
    await printed(kernel, 'a = 40');
    await printed(kernel, 'b = a + 2');
    assert.equal((await printed(kernel, 'print(get_ipython().history_manager.hist_file)')).trim(), ':memory:');
    assert.equal((await printed(kernel, 'print(_ii)')).trim(), 'b = a + 2');
    const history = await printed(kernel, '%history -n');
    assert.match(history, /1: a = 40\n\s*2: b = a \+ 2\n/);
    assert.equal(historyRows(path.join(ipythonDir, 'profile_default', 'history.sqlite')), 0);
  });

  it('stays in the file a person configured', async () => {
    const chosen = path.join(dir, 'chosen-history.sqlite');
    await mkdir(path.join(ipythonDir, 'profile_default'), { recursive: true });
    await writeFile(path.join(ipythonDir, 'profile_default', 'ipython_kernel_config.py'), `c.HistoryManager.hist_file = ${JSON.stringify(chosen)}\n`);
    const kernel = await startKernel();
    assert.equal((await printed(kernel, 'print(get_ipython().history_manager.hist_file)')).trim(), chosen);
    await printed(kernel, 'c = 1');
    await printed(kernel, 'get_ipython().history_manager.writeout_cache()');
    assert.ok(historyRows(chosen) >= 1, `no history rows in ${chosen}`);
  });
});
