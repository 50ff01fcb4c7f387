// The deferred fsync after a notebook write never blocks on a FIFO put in the file's place (it
// would hang a libuv thread for good and keep jlab-mcp from exiting). Run in a child process, so
// a regression fails this test by its deadline instead of hanging the test runner.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('atomic write', () => {
  it('flushes its deferred fsync without blocking when the file became a FIFO', async () => {
    const script = fileURLToPath(new URL('./fixtures/fsyncOverFifo.ts', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', script], { timeout: 15_000, killSignal: 'SIGKILL' }, (error, out) =>
        error ? reject(error) : resolve(out),
      );
    });
    assert.equal(stdout, 'flushed\n');
  });
});
