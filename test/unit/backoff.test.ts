// The one backoff function every SLURM polling loop uses (src/util/backoff.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/util/backoff.js';

describe('backoffDelay', () => {
  it('grows by the factor from the initial delay and stops at the cap', () => {
    const squeuePoll = { initialMs: 200, maxMs: 2000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, squeuePoll)),
      [200, 300, 450, 675, 1012.5, 1518.75, 2000, 2000],
    );
    assert.equal(backoffDelay(3, { initialMs: 100, factor: 2, maxMs: 10_000 }), 800);
    assert.equal(backoffDelay(10_000, squeuePoll), 2000, 'no overflow past the cap');
  });

  it('treats a negative, fractional or non-finite attempt as the nearest sane one', () => {
    const o = { initialMs: 100, maxMs: 1000 };
    assert.equal(backoffDelay(-3, o), 100);
    assert.equal(backoffDelay(Number.NaN, o), 100);
    assert.equal(backoffDelay(1.9, o), 150);
  });

  it('spreads the delay by ±jitter around the capped value, never below 0', () => {
    const o = { initialMs: 1000, maxMs: 1000, jitter: 0.2 };
    assert.equal(
      backoffDelay(0, o, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(0, o, () => 0.5),
      1000,
    );
    assert.ok(Math.abs(backoffDelay(0, o, () => 1) - 1200) < 1e-9);
    assert.equal(
      backoffDelay(0, { ...o, jitter: 5 }, () => 0),
      0,
      'jitter is clamped to 1',
    );
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(4, { initialMs: 100, maxMs: 400, jitter: 0.5 });
      assert.ok(d >= 200 && d <= 600, String(d));
    }
  });
});
