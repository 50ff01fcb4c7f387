// The one pid lock (src/util/pidLock.ts, behind the registry's owner lock and the set-up's venv
// lock): two real processes racing for it, round after round, and exactly one wins; a dead
// holder's lock is taken over; a live holder's is respected.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { tryPidLock } from '../../src/util/pidLock.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'jlab-pidlock-'));
after(() => rm(root, { recursive: true, force: true }));
const me = `${process.pid}@${os.hostname()}`;

/** The pid of a process that has exited (not reused within a test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

function startRacer() {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '..', 'helpers', 'lockRacer.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    async race(dir: string, startAt: number): Promise<string> {
      child.stdin!.write(`${dir} ${startAt}\n`);
      return String((await answers.next()).value);
    },
  };
}

describe('pid lock', () => {
  it('two processes asking at once: exactly one owns it, round after round, with or without a stale lock there', async () => {
    const racers = [startRacer(), startRacer()];
    try {
      // Both loaded and answering before the first round, so the rounds race lock against lock.
      for (const racer of racers) {
        const dir = path.join(root, `warm-up-${racer.child.pid}`);
        await mkdir(dir);
        assert.equal(await racer.race(dir, 0), 'won');
      }
      const dead = deadPid();
      for (let round = 0; round < 40; round++) {
        const dir = path.join(root, `race-${round}`);
        await mkdir(dir);
        // Every other round a stale lock of a dead process lies there: both racers break it at once.
        if (round % 2 === 1) await writeFile(path.join(dir, 'owner.lock'), `${dead}@${os.hostname()}\n`);
        const startAt = Date.now() + 50;
        const answers = await Promise.all(racers.map((racer) => racer.race(dir, startAt)));
        assert.deepEqual([...answers].sort(), ['lost', 'won'], `round ${round}: ${answers.join(', ')}`);
        const holder = (await readFile(path.join(dir, 'owner.lock'), 'utf8')).trim();
        const winner = racers[answers.indexOf('won')]!.child.pid;
        assert.equal(holder, `${winner}@${os.hostname()}`, `round ${round}: the file names the winner`);
      }
    } finally {
      for (const racer of racers) racer.child.kill();
    }
  });

  it('takes over the lock of a process that is gone', async () => {
    const file = path.join(root, 'stale.lock');
    await writeFile(file, `${deadPid()}@${os.hostname()}\n`);
    const lock = await tryPidLock(file);
    assert.equal(lock.acquired, true);
    assert.equal((await readFile(file, 'utf8')).trim(), me);
    if (lock.acquired) await lock.release();
    await assert.rejects(readFile(file), { code: 'ENOENT' });
  });

  it('respects the lock of a live process, and a holder on another host', async () => {
    for (const holder of [`${process.ppid}@${os.hostname()}`, `${deadPid()}@another-host.example`]) {
      const file = path.join(root, `live-${holder}.lock`);
      await writeFile(file, `${holder}\n`);
      const lock = await tryPidLock(file);
      assert.equal(lock.acquired, false);
      if (!lock.acquired) assert.equal(lock.holder.text, holder);
      assert.equal((await readFile(file, 'utf8')).trim(), holder, 'left as it was');
    }
  });

  it('a second try by the holder itself is refused, and a release by a non-holder changes nothing', async () => {
    const file = path.join(root, 'mine.lock');
    const first = await tryPidLock(file);
    assert.equal(first.acquired, true);
    const second = await tryPidLock(file);
    assert.equal(second.acquired, false);
    if (first.acquired) await first.release();
    await writeFile(file, `${process.ppid}@${os.hostname()}\n`);
    if (first.acquired) await first.release();
    assert.equal((await readFile(file, 'utf8')).trim(), `${process.ppid}@${os.hostname()}`);
  });
});
