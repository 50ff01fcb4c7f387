// The private venv's installer lock (src/setup/venvLock.ts): a second installer waits for the
// first; a lock whose owner is gone is taken over; a wait has a deadline.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { lockVenv } from '../../src/setup/venvLock.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'jlab-venvlock-'));
after(() => rm(root, { recursive: true, force: true }));

describe('lockVenv', () => {
  it('a second installer waits until the first releases', async () => {
    const dir = path.join(root, 'a', 'venv');
    const release = await lockVenv(dir, AbortSignal.timeout(10_000), 10_000);
    assert.equal((await readFile(`${dir}.lock`, 'utf8')).trim(), `${process.pid}@${os.hostname()}`);
    let second = false;
    let onBlocked!: (owner: string | number) => void;
    const blocked = new Promise<string | number>((resolve) => {
      onBlocked = resolve;
    });
    const waiting = lockVenv(dir, AbortSignal.timeout(10_000), 10_000, onBlocked).then((r) => {
      second = true;
      return r;
    });
    assert.equal(await blocked, process.pid, 'the second installer found the lock held by the first');
    assert.equal(second, false, 'still waiting while the first holds it');
    await release();
    await (await waiting)();
    assert.equal(existsSync(`${dir}.lock`), false);
  });

  it('a lock left by a process that is gone is taken over at once', async () => {
    const dir = path.join(root, 'b-venv');
    await writeFile(`${dir}.lock`, '999999999\n');
    const release = await lockVenv(dir, AbortSignal.timeout(5000), 5000);
    assert.equal((await readFile(`${dir}.lock`, 'utf8')).trim(), `${process.pid}@${os.hostname()}`);
    await release();
  });

  it('a lock just made, its pid not yet written, is waited for rather than taken (two starts at once)', async () => {
    const dir = path.join(root, 'd-venv');
    await writeFile(`${dir}.lock`, '');
    let taken = false;
    let onBlocked!: (owner: string | number) => void;
    const blocked = new Promise<string | number>((resolve) => {
      onBlocked = resolve;
    });
    const waiting = lockVenv(dir, AbortSignal.timeout(10_000), 10_000, onBlocked).then((r) => {
      taken = true;
      return r;
    });
    await blocked;
    assert.equal(taken, false, "the empty lock is still its owner's");
    await rm(`${dir}.lock`);
    await (await waiting)();
  });

  it('a lock older than any setup is stale even when its pid now belongs to a live process (reboot, reused pid)', async () => {
    const dir = path.join(root, 'e-venv');
    await writeFile(`${dir}.lock`, `${process.ppid}\n`);
    const longAgo = new Date(Date.now() - 24 * 3600_000);
    await utimes(`${dir}.lock`, longAgo, longAgo);
    const release = await lockVenv(dir, AbortSignal.timeout(5000), 3000);
    assert.equal((await readFile(`${dir}.lock`, 'utf8')).trim(), `${process.pid}@${os.hostname()}`);
    await release();
    const empty = path.join(root, 'f-venv');
    await writeFile(`${empty}.lock`, '');
    await utimes(`${empty}.lock`, longAgo, longAgo);
    await (await lockVenv(empty, AbortSignal.timeout(5000), 3000))();
  });

  it('a holder that never lets go: SERVER_START_FAILED at the deadline, naming the lock file', async () => {
    const dir = path.join(root, 'c-venv');
    const release = await lockVenv(dir, AbortSignal.timeout(5000), 5000);
    await assert.rejects(lockVenv(dir, AbortSignal.timeout(10_000), 1200), (error: Error & { code?: string; hint?: string }) => {
      assert.equal(error.code, 'SERVER_START_FAILED');
      assert.match(error.hint!, /c-venv\.lock/);
      return true;
    });
    await release();
  });
});
