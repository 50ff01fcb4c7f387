import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdsWithin, waitUntil, WaitTimeout } from '../helpers/poll.js';

describe("waitUntil (the tests' one poller)", () => {
  it('returns the first value that is not undefined or false', async () => {
    let tries = 0;
    assert.equal(await waitUntil('the third try', () => (++tries === 3 ? 'ready' : tries % 2 === 0 ? false : undefined), { intervalMs: 1 }), 'ready');
    assert.equal(tries, 3);
  });

  it('names what it waited for and what it last saw at the deadline', async () => {
    let seen = 0;
    await assert.rejects(
      waitUntil('the counter at 1000', () => ++seen >= 1000, { timeoutMs: 50, intervalMs: 5, detail: () => ({ seen }) }),
      (error: Error) => error instanceof WaitTimeout && /^timed out after 0\.05 s waiting for: the counter at 1000: \{"seen":\d+\}$/.test(error.message),
    );
  });

  it('ends at once when the check throws', async () => {
    const started = Date.now();
    await assert.rejects(
      waitUntil(
        'never',
        () => {
          throw new Error('the server exited');
        },
        { timeoutMs: 10_000 },
      ),
      /the server exited/,
    );
    assert.ok(Date.now() - started < 1000);
  });

  it('holdsWithin: false at the deadline, true when it held', async () => {
    assert.equal(await holdsWithin('never', () => false, { timeoutMs: 30, intervalMs: 5 }), false);
    assert.equal(await holdsWithin('at once', () => true), true);
  });
});
