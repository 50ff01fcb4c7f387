import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, spawnServer, textOf, type Spawned } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { validateWithPython } from '../helpers/validateNotebook.js';

/** Generous: a trap that waits for a person never finishes, so any finished reply is a pass. */
const TRAP_TIMEOUT_S = 20;

/** A running server, one session on it, and every pid that must end with the server. */
interface Workload {
  server: Spawned;
  sessionId: string;
  notebook: string;
  pids: number[];
}

async function startWorkload(env: Record<string, string> = {}): Promise<Workload> {
  const server = await spawnServer(env);
  const started = await call(server.client, 'start_new_session', { experiment_name: 'traps' });
  assert.equal(started.isError, undefined, textOf(started));
  const sessionId = String(started.structuredContent?.session_id);
  const kernel = await call(server.client, 'execute_code', { session_id: sessionId, code: 'import os; print(os.getpid())' });
  const status = await server.client.readResource({ uri: 'jlab-mcp://server/status' });
  const jupyterPid = JSON.parse(String((status.contents[0] as { text: string }).text)).server.backend.pid as number;
  const pids = [server.pid()!, jupyterPid, Number.parseInt(textOf(kernel), 10)];
  assert.ok(pids.every(Number.isInteger), `pids: ${pids.join(', ')}`);
  return { server, sessionId, notebook: String(started.structuredContent?.notebook_path), pids };
}

async function stopWorkload(workload: Workload | undefined): Promise<void> {
  if (!workload) return;
  await workload.server.close();
  assert.deepEqual(await waitUntilGone(workload.pids, 25_000), [], 'server, Jupyter and kernel end with the MCP server');
}

/**
 * Runs code as a cell and asserts the reply is a finished cell (not "still running"/"queued").
 */
async function runFinished(workload: Workload, code: string): Promise<{ text: string; status: string }> {
  const result = await call(workload.server.client, 'execute_code', { session_id: workload.sessionId, code, timeout: TRAP_TIMEOUT_S });
  const text = textOf(result);
  assert.ok(!result.isError, text);
  const footer = /\[cell \d+ \(id \w+\) · (?:In \[\d+\] · )?(\w+) · [\d.]+ s · session /.exec(text);
  assert.ok(footer, `a finished cell, not still running:\n${text}`);
  return { text, status: footer[1]! };
}

/** The kernel is idle and the queue moves: the next cell answers. */
async function assertIdle(workload: Workload): Promise<void> {
  const { text, status } = await runFinished(workload, 'print(1+1)');
  assert.equal(status, 'ok', text);
  assert.match(text, /^2\n/);
}

interface Trap {
  name: string;
  /** Cells run before the trap (their own errors are expected). */
  setup?: string[];
  code: string;
  /** The error text must name what happened. */
  names: RegExp;
  /** …and how to do it without a terminal. */
  instead: RegExp;
  /** Cells run after the row, so later rows start clean. */
  cleanup?: string;
}

const DEBUG_INSTEAD = /print\(\)[\s\S]*%tb/;

const TRAPS: Trap[] = [
  { name: '%debug after an error', setup: ['1/0'], code: '%debug', names: /StdinNotAvailable: %debug waits for someone to type/, instead: DEBUG_INSTEAD },
  {
    name: '%pdb on, then a failing call',
    setup: ['%pdb on'],
    code: 'def f():\n    return 1/0\nf()',
    names: /ZeroDivisionError[\s\S]*StdinNotAvailable: %pdb on/,
    instead: DEBUG_INSTEAD,
    cleanup: '%pdb off',
  },
  {
    name: 'pdb.set_trace()',
    code: 'import pdb\npdb.set_trace()\nprint("after the trap")',
    names: /StdinNotAvailable: pdb\.set_trace\(\) waits/,
    instead: DEBUG_INSTEAD,
  },
  { name: 'breakpoint()', code: 'breakpoint()\nprint("after the trap")', names: /StdinNotAvailable: breakpoint\(\) waits/, instead: DEBUG_INSTEAD },
  {
    name: 'pdb.post_mortem() in an except block',
    code: 'import pdb\ntry:\n    1/0\nexcept ZeroDivisionError:\n    pdb.post_mortem()',
    names: /StdinNotAvailable: The debugger \(pdb\) waits/,
    instead: DEBUG_INSTEAD,
  },
  {
    name: 'input() in a loop',
    code: 'answers = []\nwhile True:\n    answers.append(input("next? "))',
    names: /StdinNotAvailable: input\(\) waits/,
    instead: /Put the value in the code[\s\S]*JLAB_MCP_STDIN_ANSWER/,
  },
  {
    name: 'getpass.getpass()',
    code: 'import getpass\nsecret = getpass.getpass()',
    names: /StdinNotAvailable: getpass\(\) waits/,
    instead: /environment variable/,
  },
  { name: 'help() with no argument', code: 'help()', names: /StdinNotAvailable: help\(\) with no argument/, instead: /help\(len\)/ },
  { name: 'sys.stdin.read()', code: 'import sys\ndata = sys.stdin.read()', names: /StdinNotAvailable: sys\.stdin\.read\(\) waits/, instead: /open\(path\)/ },
  {
    name: 'for line in sys.stdin',
    code: 'import sys\nfor line in sys.stdin:\n    print(line)',
    names: /StdinNotAvailable: Iterating over sys\.stdin/,
    instead: /open\(path\)/,
  },
];

describe('[fault] interactive traps: no prompt waits for a person, the kernel stays usable', { timeout: 600_000 }, () => {
  let workload: Workload | undefined;
  before(async () => {
    workload = await startWorkload();
  });
  after(async () => {
    await stopWorkload(workload);
  });

  for (const trap of TRAPS) {
    it(`[fault] ${trap.name} → ends at once with StdinNotAvailable saying what to do instead; the next cell runs`, async () => {
      for (const code of trap.setup ?? []) await runFinished(workload!, code);
      const { text, status } = await runFinished(workload!, trap.code);
      assert.equal(status, 'error', text);
      assert.match(text, trap.names);
      assert.match(text, /jlab-mcp runs cells without a terminal/);
      assert.match(text, trap.instead);
      assert.doesNotMatch(text, /^after the trap$/m);
      if (trap.cleanup) await runFinished(workload!, trap.cleanup);
      await assertIdle(workload!);
      await validateWithPython([workload!.notebook]);
    });
  }

  it("[fault] help(len), sys.stdin.isatty() and %reset's confirmation still work", async () => {
    const { text, status } = await runFinished(workload!, 'import sys\nhelp(len)\nprint(sys.stdin.isatty(), sys.stdin.encoding)');
    assert.equal(status, 'ok', text);
    assert.match(text, /Help on built-in function len/);
    assert.match(text, /False utf-8/i);
    // %reset asks "are you sure?" and takes a frontend without stdin as yes.
    await runFinished(workload!, 'doomed = 1');
    const reset = await runFinished(workload!, '%reset');
    assert.equal(reset.status, 'ok', reset.text);
    assert.match((await runFinished(workload!, "print('doomed' in dir())")).text, /^False\n/);
  });

  it('[fault] a restarted kernel is guarded again (setup re-runs after restart)', async () => {
    const restarted = await call(workload!.server.client, 'restart_kernel', { session_id: workload!.sessionId });
    assert.equal(restarted.isError, undefined, textOf(restarted));
    const kernel = await runFinished(workload!, 'import os; print(os.getpid())');
    workload!.pids.push(Number.parseInt(kernel.text, 10));
    const { text, status } = await runFinished(workload!, 'breakpoint()\nprint("after the trap")');
    assert.equal(status, 'error', text);
    assert.match(text, /StdinNotAvailable: breakpoint\(\)/);
    await assertIdle(workload!);
  });

  it('[fault] resume of a notebook with %pdb on, 1/0 and %debug → finishes and lists the errors', async () => {
    const notebook = path.join(workload!.server.notebookDir, 'debugging.ipynb');
    const cells = ['%pdb on', 'x = 41', '1/0', '%debug', 'print(x + 1)'];
    await writeFile(
      notebook,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: cells.map((source, index) => ({ cell_type: 'code', id: `cell-${index}`, metadata: {}, source, outputs: [], execution_count: null })),
      }),
    );
    const resumed = await call(workload!.server.client, 'start_session_resume_notebook', {
      experiment_name: 'resume traps',
      notebook_path: notebook,
      timeout: 120,
    });
    assert.equal(resumed.isError, undefined, textOf(resumed));
    const replay = resumed.structuredContent?.replay as { status: string; cells_run: number };
    assert.equal(replay.status, 'done', textOf(resumed));
    assert.equal(replay.cells_run, cells.length);
    const errors = resumed.structuredContent?.restored_with_errors as Array<{ cell: { index: number }; ename: string; evalue: string }>;
    assert.deepEqual(
      errors.map((error) => [error.cell.index, error.ename]),
      [
        [2, 'ZeroDivisionError'],
        [3, 'StdinNotAvailable'],
      ],
    );
    assert.match(errors[1]!.evalue, /%debug waits for someone to type/);
    const resumedSession: Workload = { ...workload!, sessionId: String(resumed.structuredContent?.session_id), notebook };
    const kernel = await runFinished(resumedSession, 'import os; print(os.getpid())');
    workload!.pids.push(Number.parseInt(kernel.text, 10));
    assert.match((await runFinished(resumedSession, 'print(x + 1)')).text, /^42\n/);
    await assertIdle(resumedSession);
    await validateWithPython([notebook]);
  });
});

const BOUNDED = /StdinNotAvailable: (The debugger|breakpoint\(\)|pdb\.set_trace\(\)) wanted more commands after 20 prompts[\s\S]*cannot loop forever/;

// "c…" continues (pdb ignores the rest as its argument), so loops re-enter the debugger again and
// again; "y" is no command, so one debugger asks again and again. Quotes, a backslash and
// non-ASCII check that the answer reaches the kernel's setup code intact.
for (const { answer, continues } of [
  { answer: 'c # it\'s "quoted" \\ é', continues: true },
  { answer: 'y', continues: false },
]) {
  describe(`[fault] interactive traps with JLAB_MCP_STDIN_ANSWER=${JSON.stringify(answer)}`, { timeout: 600_000 }, () => {
    let workload: Workload | undefined;
    before(async () => {
      workload = await startWorkload({ JLAB_MCP_STDIN_ANSWER: answer });
    });
    after(async () => {
      await stopWorkload(workload);
    });

    it(`[fault] input() with JLAB_MCP_STDIN_ANSWER=${JSON.stringify(answer)} → gets exactly that answer`, async () => {
      // A JSON string is a valid Python string literal.
      const { text, status } = await runFinished(workload!, `reply = input("go? ")\nprint(reply == ${JSON.stringify(answer)}, len(reply))`);
      assert.equal(status, 'ok', text);
      assert.match(text, new RegExp(`^True ${answer.length}\\n`));
    });

    it(`[fault] breakpoint() once with JLAB_MCP_STDIN_ANSWER=${JSON.stringify(answer)} → the debugger gets the answer, ${continues ? 'the cell goes on' : 'stops after 20 prompts'}`, async () => {
      const { text, status } = await runFinished(workload!, 'breakpoint()\nprint("after the trap")');
      assert.ok(text.includes(`> ${answer}\n`), `the answer is echoed at the prompt:\n${text}`);
      if (continues) {
        assert.equal(status, 'ok', text);
        assert.match(text, /^after the trap$/m);
      } else {
        assert.equal(status, 'error', text);
        assert.match(text, BOUNDED);
      }
      await assertIdle(workload!);
    });

    for (const [name, code] of [
      ['breakpoint() in an endless loop', 'n = 0\nwhile True:\n    n += 1\n    breakpoint()'],
      ['pdb.set_trace() in an endless loop', 'import pdb\nwhile True:\n    pdb.set_trace()'],
      ['%debug after an error', '%debug'],
    ] as const) {
      it(`[fault] ${name} with JLAB_MCP_STDIN_ANSWER=${JSON.stringify(answer)} → ends in bounded time; the next cell runs`, async () => {
        if (name.startsWith('%debug')) await runFinished(workload!, '1/0');
        const { text, status } = await runFinished(workload!, code);
        if (name.startsWith('%debug') && continues) assert.equal(status, 'ok', text);
        else assert.match(text, BOUNDED);
        await assertIdle(workload!);
      });
    }

    it(`[fault] %pdb on, then a failing call, with JLAB_MCP_STDIN_ANSWER=${JSON.stringify(answer)} → the error is reported, the debugger ends`, async () => {
      await runFinished(workload!, '%pdb on');
      const { text, status } = await runFinished(workload!, 'def f():\n    return 1/0\nf()');
      assert.equal(status, 'error', text);
      assert.match(text, /ZeroDivisionError/);
      assert.ok(text.includes(`> ${answer}\n`), `the debugger got the answer:\n${text}`);
      if (!continues) assert.match(text, BOUNDED);
      await runFinished(workload!, '%pdb off');
      await assertIdle(workload!);
      await validateWithPython([workload!.notebook]);
    });
  });
}
