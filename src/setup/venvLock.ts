import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../util/deadline.js';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { tryPidLock } from '../util/pidLock.js';

/** Beyond the setup's own deadline (`timeoutMs`): its planning, and the grace to stop a step. */
const OUTLIVED_MS = 5 * 60_000;

/**
 * One installer at a time per private venv: two jlab-mcps (two projects) started on a fresh
 * machine would otherwise run pip into the same directory at once. The lock is a pid lock file
 * next to the venv; one whose owner is gone, or older than any setup can last (the pid in it is
 * someone else's now: a reboot, a reused pid), is taken over. `onWaiting` hears, once, that it
 * found the lock held and waits. Resolves to the release.
 */
export async function lockVenv(
  dir: string,
  signal: AbortSignal,
  timeoutMs: number,
  onWaiting: (owner: string | number) => void = (owner) => log.info(`setup: another jlab-mcp (pid ${owner}) is setting up ${dir}; waiting for it`),
): Promise<() => Promise<void>> {
  const file = `${dir}.lock`;
  await mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const lock = await tryPidLock(file, { staleAfterMs: timeoutMs + OUTLIVED_MS });
    if (lock.acquired) return lock.release;
    const owner = lock.holder.pid ?? lock.holder.text;
    if (Date.now() > deadline) {
      throw new JlabError('SERVER_START_FAILED', `Another jlab-mcp (pid ${owner}) has been setting up ${dir} for too long.`, {
        hint: `Wait for it, or stop it and remove ${file}; the next call tries again.`,
      });
    }
    if (!told) onWaiting(owner);
    told = true;
    await sleep(1000, signal);
  }
}
