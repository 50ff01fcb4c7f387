// The one subprocess runner (src/util/exec.ts) against real fixture programs: a child that
// sleeps, one that prints a lot, one that exits non-zero, one that ignores SIGTERM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exec, ExecError } from '../../src/util/exec.js';
import { registerSecret } from '../../src/util/secrets.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';

const node = (script: string) => [process.execPath, '-e', script];

async function failure(run: Promise<unknown>): Promise<ExecError> {
  try {
    await run;
  } catch (error) {
    assert.ok(error instanceof ExecError, `expected an ExecError, got ${String(error)}`);
    return error;
  }
  assert.fail('the run succeeded');
}

describe('exec', () => {
  it('captures stdout and stderr of a clean exit, with no shell in between', async () => {
    const { stdout, stderr } = await exec(['sh', '-c', 'printf "out $1"; printf err >&2', 'sh', '$(not run)'], { timeoutMs: 10_000 });
    assert.equal(stdout, 'out $(not run)');
    assert.equal(stderr, 'err');
  });

  it('rejects a non-zero exit with its code and stderr tail', async () => {
    const error = await failure(exec(node('console.log("partial"); console.error("line 1\\nthe reason"); process.exit(3)'), { timeoutMs: 10_000 }));
    assert.equal(error.kind, 'exit-code');
    assert.equal(error.exitCode, 3);
    assert.equal(error.timedOut, false);
    assert.equal(error.stdout, 'partial\n');
    assert.match(error.stderrTail, /the reason$/);
    assert.match(error.message, /exited with code 3\n(.|\n)*the reason/);
  });

  it('keeps only the newest output of a child that prints a lot, without failing it', async () => {
    const script = 'const line = "x".repeat(1023) + "\\n"; for (let i = 0; i < 8192; i++) process.stdout.write(line); process.stdout.write("THE END")';
    const { stdout } = await exec(node(script), { timeoutMs: 30_000, maxOutput: 4096 });
    assert.equal(stdout.length, 4096);
    assert.ok(stdout.endsWith('x\nTHE END'));
  });

  it('ends a child that sleeps past its deadline and says so', async () => {
    const started = Date.now();
    const error = await failure(exec(['sleep', '30'], { timeoutMs: 300 }));
    assert.equal(error.kind, 'timed-out');
    assert.equal(error.timedOut, true);
    assert.equal(error.signal, 'SIGTERM');
    assert.match(error.message, /^sleep did not finish within 0\.3 s/);
    assert.ok(Date.now() - started < 5000);
  });

  it('SIGKILLs a child that ignores SIGTERM once the grace is over', async () => {
    const started = Date.now();
    const script = 'process.on("SIGTERM", () => console.log("ignored")); console.log("ready"); setInterval(() => {}, 1000)';
    const error = await failure(exec(node(script), { timeoutMs: 1500, graceMs: 700 }));
    const elapsed = Date.now() - started;
    assert.equal(error.signal, 'SIGKILL');
    assert.equal(error.timedOut, true);
    assert.match(error.stdout, /ready\n(ignored\n)?/);
    assert.ok(elapsed >= 2150 && elapsed < 10_000, `ended after ${elapsed} ms`);
  });

  it('ends the child when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 200);
    const error = await failure(exec(['sleep', '30'], { timeoutMs: 30_000, signal: controller.signal }));
    assert.equal(error.kind, 'aborted');
    assert.equal(error.aborted, true);
    assert.equal(error.timedOut, false);
  });

  it('with processGroup, ends the grandchildren too', async () => {
    const pidFile = `/tmp/jlab-exec-${process.pid}-${Date.now()}`;
    const started = exec(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 1000, processGroup: true });
    const error = await failure(started);
    assert.equal(error.timedOut, true);
    const { readFile, rm } = await import('node:fs/promises');
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    await rm(pidFile, { force: true });
    assert.deepEqual(await waitUntilGone([grandchild], 3000), []);
  });

  it('does not wait for a grandchild that holds the pipes after the child exited', async () => {
    const started = Date.now();
    const error = await failure(exec(['sh', '-c', 'sleep 5 & echo gone; exit 4'], { timeoutMs: 20_000 }));
    assert.equal(error.exitCode, 4);
    assert.equal(error.stdout, 'gone\n');
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  it('leaves the child running on abort when asked (apt), and rejects at once', async () => {
    const controller = new AbortController();
    const run = exec(['sleep', '30'], { timeoutMs: 30_000, signal: controller.signal, leaveRunningOnAbort: true });
    setTimeout(() => controller.abort(), 200);
    const error = await failure(run);
    assert.equal(error.kind, 'left-running');
    assert.ok(error.pid && (await isAlive(error.pid)), 'still running');
    process.kill(error.pid, 'SIGKILL');
  });

  it('reports a program that is not there', async () => {
    const error = await failure(exec(['/nonexistent/jlab-no-such-program'], { timeoutMs: 5000 }));
    assert.equal(error.kind, 'not-found');
    assert.match(error.message, /was not found/);
  });

  it('gives the child no token and keeps a token out of the error', async () => {
    const secret = 'tok-exec-test-0123456789abcdef';
    registerSecret(secret);
    const env = { ...process.env, JLAB_MCP_JUPYTER_TOKEN: secret, JUPYTER_TOKEN: secret, KEPT: 'yes' };
    const { stdout } = await exec(node('console.log([process.env.JLAB_MCP_JUPYTER_TOKEN, process.env.JUPYTER_TOKEN, process.env.KEPT].join(","))'), {
      timeoutMs: 10_000,
      env,
    });
    assert.equal(stdout, ',,yes\n');
    const error = await failure(exec(node(`console.error("auth with ${secret} failed"); process.exit(1)`), { timeoutMs: 10_000 }));
    assert.doesNotMatch(error.message, new RegExp(secret));
    assert.doesNotMatch(error.stderrTail, new RegExp(secret));
    assert.match(error.stderrTail, /auth with <redacted> failed/);
  });
});
