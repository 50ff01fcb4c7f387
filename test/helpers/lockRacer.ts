// A child process for the lock race test: for each line `<dir> <startAtMs>` on stdin it waits
// until that moment (so two racers call at once), asks for the registry's owner lock in <dir>,
// and prints `won` or `lost`. It keeps what it won until it exits.
import { createInterface } from 'node:readline';
import { acquireOwnerLock } from '../../src/state/ownerLock.js';

for await (const line of createInterface({ input: process.stdin })) {
  const [dir, startAt] = line.split(' ');
  while (Date.now() < Number(startAt)) {
    // spin: a timer would add a millisecond of jitter to the start
  }
  const lock = await acquireOwnerLock(dir!).catch((error: unknown) => ({ owned: String(error) }));
  process.stdout.write(`${lock.owned === true ? 'won' : lock.owned === false ? 'lost' : lock.owned}\n`);
}
