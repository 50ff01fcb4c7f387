import { open, readFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pidAlive } from '../util/terminate.js';

export type LockResult = { owned: true; release: () => Promise<void> } | { owned: false; holder: string };

/**
 * One writer per state directory: an O_EXCL lock file holding `pid@host`. A lock left by a
 * process that is gone (same host, pid not alive) is taken over; one held by a live process is
 * reported, and the caller reads only.
 */
export async function acquireOwnerLock(dir: string): Promise<LockResult> {
  const file = path.join(dir, 'owner.lock');
  const me = `${process.pid}@${os.hostname()}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${me}\n`);
      await handle.close();
      return {
        owned: true,
        release: async () => {
          const now = await readFile(file, 'utf8').catch(() => '');
          if (now.trim() === me) await unlink(file).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (holder && !isStale(holder)) return { owned: false, holder };
    await unlink(file).catch(() => {});
  }
  return { owned: false, holder: 'unknown (the lock file kept changing)' };
}

/** True when `pid@host` names a process of this host that no longer runs. */
function isStale(holder: string): boolean {
  const [pidText, host] = holder.split('@');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  return host === os.hostname() && !pidAlive(pid);
}
