import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../../src/backends/local/localBackend.js';
import { executeOnKernel } from '../../src/jupyter/execute.js';
import { KernelHandle } from '../../src/jupyter/kernel.js';
import { JupyterRestClient } from '../../src/jupyter/restClient.js';
import { guardStdout, setLogLevel } from '../../src/util/log.js';
import { waitUntil } from '../helpers/poll.js';

guardStdout();
setLogLevel('warn');

/** The message types in the spool, in order ("status:idle" for a status). */
function spooled(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const message = JSON.parse(line) as { header: { msg_type: string }; content: { execution_state?: string } };
      return message.header.msg_type + (message.content.execution_state ? `:${message.content.execution_state}` : '');
    });
}

/**
 * assets/kernel/python_spool.py in a real kernel: a cell still running a second after it started
 * gets the file (even a silent one), a quicker cell never does — not even when the kernel then
 * stays idle.
 */
describe('the kernel-side output spool', () => {
  let dir: string;
  let backend: LocalBackend;
  let kernel: KernelHandle;
  let spool: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-spool-'));
    backend = new LocalBackend({ rootDir: dir, startTimeoutMs: 60_000 });
    const rest = new JupyterRestClient(await backend.start(AbortSignal.timeout(70_000)));
    kernel = await KernelHandle.start(rest, undefined, 60_000);
    spool = path.join(dir, 'spool.jsonl');
    kernel.setSpoolPath(spool);
  });

  after(async () => {
    await kernel?.shutdown();
    await backend?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (code: string) => executeOnKernel(kernel, code, () => {}).end;

  it('quick cells leave no file, also after the kernel idles past the threshold', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await run('1+1')).kind, 'ok');
    await sleep(1800);
    assert.equal(existsSync(spool), false, `a quick cell wrote ${spool}`);
  });

  it('a silent cell gets the file once it has run a second, and its end is appended', async () => {
    const long = run('import time; time.sleep(4)');
    const early = await waitUntil('the spool of the running cell', () => existsSync(spool) && spooled(spool), { timeoutMs: 3500, intervalMs: 50 });
    assert.deepEqual(early, ['execute_input']);
    assert.equal((await long).kind, 'ok');
    await waitUntil('the idle status in the spool', () => spooled(spool).includes('status:idle'), { timeoutMs: 5000 });
    assert.deepEqual(spooled(spool), ['execute_input', 'status:idle']);
  });

  it('quick cells after a long one leave its file alone', async () => {
    const before = statSync(spool, { bigint: true }).mtimeNs;
    for (let i = 0; i < 3; i++) await run('1+1');
    await sleep(1800);
    assert.equal(statSync(spool, { bigint: true }).mtimeNs, before);
  });
});
