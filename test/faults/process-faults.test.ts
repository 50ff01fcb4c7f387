import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { writeServerConfig } from '../../src/backends/serverConfig.js';
import { findFreePort } from '../../src/backends/local/freePort.js';
import { call, spawnServer, textOf, type Spawned, type ToolResult } from '../helpers/mcpClient.js';
import { pidsMatching, waitUntilGone } from '../helpers/processes.js';
import { ProcessTree } from '../helpers/processTree.js';
import { TcpProxy } from '../helpers/tcpProxy.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { readCells } from '../helpers/notebookFile.js';
import { holdsWithin, waitUntil } from '../helpers/poll.js';

/*
 * Process-level faults through the built binary and the official MCP client. Every case ends
 * with: no process left (jlab-mcp, Jupyter, kernels — every descendant ever seen), every
 * notebook valid, and nothing the agent read missing from the notebook.
 */

const LINE = /line (\d{3}) (\d+\.\d{3})/g;

/** A cell printing `line NNN <unix time>` every 0.2 s; each line goes to `truth` first, so the test knows what ran. */
interface Ticker {
  code: string;
  truth: string;
  stop: string;
  count: number;
}

async function ticker(count: number): Promise<Ticker> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-fault-'));
  const truth = path.join(dir, 'printed.txt');
  const stop = path.join(dir, 'stop');
  // The stop file lets a resume replay the cell in no time.
  const code = [
    'import os, time',
    `for i in range(${count}):`,
    `    if os.path.exists(${JSON.stringify(stop)}):`,
    '        break',
    '    line = f"line {i:03d} {time.time():.3f}"',
    `    with open(${JSON.stringify(truth)}, "a") as f:`,
    '        f.write(line + "\\n")',
    '    print(line, flush=True)',
    '    time.sleep(0.2)',
  ].join('\n');
  return { code, truth, stop, count };
}

function linesIn(text: string): string[] {
  return [...text.matchAll(LINE)].map((match) => match[0]);
}

async function printed(t: Ticker): Promise<string[]> {
  return linesIn(await readFile(t.truth, 'utf8').catch(() => ''));
}

type Cell = { source: string | string[]; outputs: Array<{ output_type: string; name?: string; text?: string | string[]; ename?: string }> };

/** The notebook cell that holds the ticker (found by its source), or undefined. */
async function tickerCell(notebook: string, t: Ticker): Promise<Cell | undefined> {
  return (await readCells<Cell>(notebook)).find((cell) => [cell.source].flat().join('').includes(t.truth));
}

function recordedLines(cell: Cell): string[] {
  return linesIn(
    cell.outputs
      .filter((o) => o.output_type === 'stream')
      .map((o) => [o.text ?? ''].flat().join(''))
      .join(''),
  );
}

/**
 * The notebook holds the printed lines in order, each once, none invented (a prefix of what the
 * kernel printed), and every line the agent read.
 */
function assertNothingLost(recorded: string[], truth: string[], read: string[]): void {
  assert.deepEqual(recorded, truth.slice(0, recorded.length), 'the notebook holds what the kernel printed, in order, each line once');
  const missing = [...new Set(read)].filter((line) => !recorded.includes(line));
  assert.deepEqual(missing, [], 'lines the agent read are missing from the notebook');
}

/** An execute_code call whose progress notifications are kept; the test waits on them instead of sleeping. */
class WatchedCall {
  readonly progress: string[] = [];
  readonly result: Promise<ToolResult>;
  private settled?: string;

  constructor(server: Spawned, args: Record<string, unknown>, timeoutMs: number) {
    this.result = server.client.callTool(
      { name: 'execute_code', arguments: args },
      { timeout: timeoutMs, onprogress: (p) => void this.progress.push(p.message ?? '') },
    ) as Promise<ToolResult>;
    this.result.then(
      (result) => (this.settled = textOf(result)),
      (error: unknown) => (this.settled = String(error)),
    );
  }

  /** Lines the agent was shown in progress notifications. */
  readLines(): string[] {
    return this.progress.flatMap(linesIn);
  }

  /** Resolves once a progress notification shows line `index` or a later one. */
  async untilLine(index: number, timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      `progress showing line ${index}`,
      () => {
        if (this.settled !== undefined) throw new Error(`the call ended before line ${index} showed: ${this.settled}`);
        return this.readLines().some((line) => Number(line.slice(5, 8)) >= index);
      },
      { timeoutMs, intervalMs: 50, detail: () => this.progress },
    );
  }
}

async function startSession(server: Spawned, name: string): Promise<{ sid: string; notebook: string; kernelId: string }> {
  const started = await call(server.client, 'start_new_session', { experiment_name: name });
  assert.equal(started.isError, undefined, textOf(started));
  const s = started.structuredContent!;
  return { sid: String(s.session_id), notebook: String(s.notebook_path), kernelId: String(s.kernel_id) };
}

async function statusOf(server: Spawned): Promise<{ server: { backend: { pid?: number } } }> {
  const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  return JSON.parse(String((status.contents[0] as { text: string }).text));
}

/** The MCP client process dies: its ends of jlab-mcp's stdin, stdout and stderr close, with no message and no signal. */
function vanishClient(server: Spawned): void {
  const child = (server.transport as unknown as { _process?: ChildProcess })._process;
  assert.ok(child?.stdin && child.stdout, 'the stdio transport holds the jlab-mcp child process');
  child.stdin.destroy();
  child.stdout.destroy();
  child.stderr?.destroy();
}

async function assertNotebooksValid(dir: string): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ipynb')).map((f) => path.join(dir, f));
  assert.ok(files.length > 0, `no notebook in ${dir}`);
  await validateWithPython(files);
}

/**
 * Runs `body` against a fresh jlab-mcp, then closes it and checks that every process it ever
 * had (and `extraRoots`' descendants) has ended and every notebook it wrote is valid.
 */
async function withServer(env: Record<string, string>, body: (server: Spawned, tree: ProcessTree) => Promise<void>, extraRoots: number[] = []): Promise<void> {
  const server = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'info', ...env });
  const tree = new ProcessTree([server.pid()!, ...extraRoots]);
  try {
    await body(server, tree);
  } catch (error) {
    tree.stop();
    await server.close().catch(() => {});
    throw new Error(`${(error as Error).message}\n--- jlab-mcp stderr (tail) ---\n${server.stderr().slice(-3000)}`, { cause: error });
  }
  await server.close().catch(() => {});
  const kinds = tree.all().map((p) => p.command);
  assert.ok(
    kinds.some((c) => c.includes('ipykernel')),
    `a kernel was tracked: ${kinds.join(' | ')}`,
  );
  if (extraRoots.length === 0)
    assert.ok(
      kinds.some((c) => c.includes('jupyter')),
      `the Jupyter server was tracked: ${kinds.join(' | ')}`,
    );
  // The external server the test runs is stopped by the test, later; only jlab-mcp's own must be gone here.
  const left = (await tree.waitAllGone(25_000)).filter((p) => !extraRoots.includes(p.pid));
  assert.deepEqual(
    left.map((p) => `${p.pid} ${p.command}`),
    [],
    'processes left behind',
  );
  await assertNotebooksValid(server.notebookDir);
}

describe('process faults', { timeout: 180_000 }, () => {
  it('[fault] SIGKILL of the kernel mid-cell → KernelDied recorded, the lines printed before it kept, the session goes on', { timeout: 60_000 }, async () => {
    await withServer({}, async (server) => {
      const { sid, notebook, kernelId } = await startSession(server, 'kernel kill');
      const kernelPids = await pidsMatching(`kernel-${kernelId}.json`);
      assert.equal(kernelPids.length, 1, `one process for kernel ${kernelId}: ${kernelPids.join(', ')}`);
      const t = await ticker(150);
      const run = new WatchedCall(server, { session_id: sid, code: t.code, timeout: 40 }, 60_000);
      await run.untilLine(3);
      process.kill(kernelPids[0]!, 'SIGKILL');
      const result = await run.result;
      const text = textOf(result);
      assert.equal(result.isError, true, text);
      assert.match(text, /KernelDied: The kernel died while running this cell/);
      assert.match(text, /\[cell 0 \(id \w+\) · kernel_died ·/);
      const cell = (await tickerCell(notebook, t))!;
      assert.equal(cell.outputs.at(-1)?.ename, 'KernelDied');
      const recorded = recordedLines(cell);
      assert.ok(recorded.length >= 4, `lines up to the one the agent saw: ${recorded.length}`);
      assertNothingLost(recorded, await printed(t), [...run.readLines(), ...linesIn(text)]);
      const next = await call(server.client, 'execute_code', { session_id: sid, code: 'print("after")', timeout: 30 });
      assert.match(textOf(next), /^after\n[\s\S]*\[cell 1 \(id \w+\) · In \[\d+\] · ok/);
    });
  });

  it('[fault] SIGKILL of the Jupyter server mid-cell → ServerLost at once, the reply names the exact resume call, resume works', {
    timeout: 90_000,
  }, async () => {
    await withServer({}, async (server) => {
      const { sid, notebook } = await startSession(server, 'server kill');
      const jupyterPid = (await statusOf(server)).server.backend.pid!;
      assert.ok(jupyterPid > 0);
      const t = await ticker(600);
      // The call's own timeout is the deadline for "at once": past it, the reply would say "still running".
      const run = new WatchedCall(server, { session_id: sid, code: t.code, timeout: 15 }, 60_000);
      await run.untilLine(3);
      process.kill(jupyterPid, 'SIGKILL');
      const result = await run.result;
      const text = textOf(result);
      assert.equal(result.isError, true, text);
      assert.match(text, /ServerLost: The connection to the Jupyter server was lost/);
      const resumeCall = `start_session_resume_notebook(notebook_path="${notebook}")`;
      assert.ok(text.includes(resumeCall), `the cell's reply names ${resumeCall}:\n${text}`);
      const cell = (await tickerCell(notebook, t))!;
      assert.equal(cell.outputs.at(-1)?.ename, 'ServerLost');
      assertNothingLost(recordedLines(cell), await printed(t), [...run.readLines(), ...linesIn(text)]);
      const later = await call(server.client, 'execute_code', { session_id: sid, code: '1' });
      assert.equal(later.isError, true);
      assert.ok(textOf(later).includes(resumeCall), textOf(later));
      // Resume re-runs every cell: the stop file makes the ticker's replay immediate.
      await writeFile(t.stop, '');
      const resumed = await call(server.client, 'start_session_resume_notebook', { experiment_name: 'back', notebook_path: notebook });
      assert.equal(resumed.isError, undefined, textOf(resumed));
      const ran = await call(server.client, 'execute_code', { session_id: String(resumed.structuredContent?.session_id), code: 'print("resumed")' });
      assert.match(textOf(ran), /^resumed\n[\s\S]*· ok ·/);
    });
  });

  it('[fault] the MCP client vanishes mid-cell → jlab-mcp exits, no process left, the cell so far is in the notebook', { timeout: 60_000 }, async () => {
    await withServer({}, async (server) => {
      const { sid, notebook } = await startSession(server, 'client gone');
      const t = await ticker(300);
      const run = new WatchedCall(server, { session_id: sid, code: t.code, timeout: 50 }, 60_000);
      run.result.catch(() => {});
      await run.untilLine(3);
      const pid = server.pid()!;
      vanishClient(server);
      assert.deepEqual(await waitUntilGone([pid], 25_000), [], 'jlab-mcp exits by itself when its client is gone');
      const cell = await tickerCell(notebook, t);
      assert.ok(cell, "the running cell's source is in the notebook");
      const recorded = recordedLines(cell);
      assert.ok(recorded.length >= 4, `the output so far is kept: ${recorded.length} lines`);
      assertNothingLost(recorded, await printed(t), run.readLines());
    });
  });

  it('[fault] SIGKILL of jlab-mcp mid-cell → the running cell and its output so far are in the notebook; the next jlab-mcp adopts the session and its exit leaves no process', {
    timeout: 90_000,
  }, async () => {
    const saveIntervalS = 1;
    await withServer({ JLAB_MCP_SAVE_INTERVAL: String(saveIntervalS) }, async (server, _tree) => {
      const { sid, notebook } = await startSession(server, 'mcp kill');
      const t = await ticker(300);
      const run = new WatchedCall(server, { session_id: sid, code: t.code, timeout: 50 }, 60_000);
      run.result.catch(() => {});
      // Far enough in that "printed up to a few seconds before the kill" is not empty.
      await run.untilLine(20);
      const killedAt = Date.now() / 1000;
      process.kill(server.pid()!, 'SIGKILL');
      assert.deepEqual(await waitUntilGone([server.pid()!], 10_000), []);
      const cell = await tickerCell(notebook, t);
      assert.ok(cell, "the running cell's source is in the notebook");
      const truth = await printed(t);
      const recorded = recordedLines(cell);
      assertNothingLost(recorded, truth, []);
      const due = truth.filter((line) => Number(line.split(' ')[2]) <= killedAt - saveIntervalS - 1);
      assert.ok(due.length >= 5, `lines printed well before the kill: ${due.length}`);
      const missing = due.filter((line) => !recorded.includes(line));
      assert.deepEqual(missing, [], `lines printed more than ${saveIntervalS + 1} s before the kill are in the notebook`);
      // The next jlab-mcp on the same notebook directory adopts the session; its normal exit
      // (policy shutdown) stops the kernel and the server the first one started.
      const next = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'info' }, server.notebookDir);
      try {
        const stopped = await call(next.client, 'interrupt_kernel', { session_id: sid });
        assert.equal(stopped.isError, undefined, textOf(stopped));
        const ended = await call(next.client, 'wait_for_cell', { session_id: sid, timeout: 30 });
        assert.match(textOf(ended), /KeyboardInterrupt/);
        const adoptedCell = await tickerCell(notebook, t);
        assertNothingLost(recordedLines(adoptedCell!), await printed(t), []);
      } finally {
        await next.close();
      }
    });
  });
});

/** A Jupyter server "the user runs", started by the test: token in a 0600 file read by its config, never in argv. */
async function startOwnJupyter(rootDir: string): Promise<{ child: ChildProcess; port: number; token: string; stderr: () => string }> {
  const token = randomBytes(24).toString('hex');
  const runtime = await mkdtemp(path.join(os.tmpdir(), 'jlab-fault-jupyter-'));
  const { configFile, tokenFile } = await writeServerConfig(runtime, token);
  const port = await findFreePort();
  const args = [
    `--config=${configFile}`,
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    '--ServerApp.open_browser=False',
    `--ServerApp.root_dir=${rootDir}`,
  ];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const env: NodeJS.ProcessEnv = { ...process.env, JLAB_MCP_TOKEN_FILE: tokenFile, JUPYTER_RUNTIME_DIR: runtime };
  delete env.JUPYTER_TOKEN;
  // pdeathsig: should this test process die, the server does not outlive it.
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'jupyter-server', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-5000)));
  await waitUntil(
    'our Jupyter server up',
    () => {
      if (child.exitCode !== null) throw new Error(`our Jupyter server did not come up:\n${stderr}`);
      return fetch(`http://127.0.0.1:${port}/api/status`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
    },
    { timeoutMs: 60_000, intervalMs: 200, detail: () => `\n${stderr}` },
  );
  return { child, port, token, stderr: () => stderr };
}

describe('kernel websocket cut (external server behind a TCP proxy)', { timeout: 180_000 }, () => {
  let jupyter: Awaited<ReturnType<typeof startOwnJupyter>>;
  let proxy: TcpProxy;
  let rootDir = '';

  before(async () => {
    rootDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-fault-ext-'));
    jupyter = await startOwnJupyter(rootDir);
    proxy = new TcpProxy({ host: '127.0.0.1', port: jupyter.port });
    await proxy.up();
  });
  after(async () => {
    await proxy?.down();
    if (jupyter) {
      const tree = new ProcessTree([jupyter.child.pid!]);
      await tree.sample();
      jupyter.child.kill('SIGTERM');
      const left = await tree.waitAllGone(20_000);
      for (const p of left) process.kill(p.pid, 'SIGKILL');
      assert.deepEqual(left, [], 'our Jupyter server and its kernels ended on SIGTERM');
    }
  });

  async function kernelsOnServer(): Promise<string[]> {
    const response = await fetch(`http://127.0.0.1:${jupyter.port}/api/kernels`, {
      headers: { Authorization: `token ${jupyter.token}` },
      signal: AbortSignal.timeout(5000),
    });
    return ((await response.json()) as Array<{ id: string }>).map((k) => k.id);
  }

  /** Runs a ticker, applies `fault` once its output shows, and checks the cell's one outcome. */
  async function cellThroughFault(name: string, count: number, fault: (t: Ticker) => Promise<void>): Promise<void> {
    let kernelId = '';
    await withServer(
      { JLAB_MCP_RUN_MODE: 'external', JLAB_MCP_JUPYTER_URL: proxy.url, JLAB_MCP_JUPYTER_TOKEN: jupyter.token },
      async (server) => {
        const session = await startSession(server, name);
        kernelId = session.kernelId;
        const t = await ticker(count);
        const run = new WatchedCall(server, { session_id: session.sid, code: t.code, timeout: 100 }, 120_000);
        await run.untilLine(3);
        await fault(t);
        const result = await run.result;
        const text = textOf(result);
        assert.notEqual(result.isError, true, text);
        assert.match(text, /\[cell 0 \(id \w+\) · In \[1\] · ok ·/);
        const truth = await printed(t);
        // Ran once, all of it: one line per iteration in the kernel's own file.
        assert.deepEqual(
          truth.map((line) => Number(line.slice(5, 8))),
          Array.from({ length: count }, (_, i) => i),
          'each iteration ran exactly once',
        );
        const cell = (await tickerCell(session.notebook, t))!;
        assert.deepEqual(recordedLines(cell), truth, 'every printed line is in the notebook exactly once');
        assertNothingLost(recordedLines(cell), truth, [...run.readLines(), ...linesIn(text)]);
        const again = await call(server.client, 'wait_for_cell', { session_id: session.sid, timeout: 5 });
        assert.match(textOf(again), /No cell is running or waiting/, 'the outcome is reported once');
        const next = await call(server.client, 'execute_code', { session_id: session.sid, code: 'print("after")', timeout: 30 });
        assert.match(textOf(next), /^after\n[\s\S]*\[cell 1 \(id \w+\) · In \[2\] · ok/);
      },
      [jupyter.child.pid!],
    );
    assert.ok(!(await kernelsOnServer()).includes(kernelId), `jlab-mcp shut its kernel ${kernelId} down on the external server`);
  }

  it('[fault] the kernel websocket is cut mid-cell and reconnects → the outcome reported once, every line once, the cell not run twice', {
    timeout: 90_000,
  }, async () => {
    await cellThroughFault('ws cut', 30, async (t) => {
      const before = proxy.accepted;
      assert.ok(proxy.cut() > 0, 'connections were cut');
      assert.ok((await printed(t)).length < t.count, 'cut while the cell ran');
      // The websocket comes back through the proxy on its own.
      assert.ok(await holdsWithin('a reconnect', () => proxy.accepted > before, { intervalMs: 50 }), 'jlab-mcp reconnected');
    });
  });

  it('[fault] the server is unreachable for 10 s mid-cell, then back → the outcome reported once, every line once, the cell not run twice', {
    timeout: 120_000,
  }, async () => {
    await cellThroughFault('ws down', 30, async (t) => {
      await proxy.down();
      assert.ok((await printed(t)).length < t.count, 'down while the cell ran');
      // The outage itself: a fixed span is the fault being injected, not a wait for an event.
      await sleep(10_000);
      await proxy.up();
    });
  });
});
