import path from 'node:path';
import { tryPidLock } from '../util/pidLock.js';

export type LockResult = { owned: true; release: () => Promise<void> } | { owned: false; holder: string };

/**
 * One writer per state directory: the pid lock `owner.lock`. A lock left by a process that is
 * gone is taken over; one held by a live process is reported, and the caller reads only.
 */
export async function acquireOwnerLock(dir: string): Promise<LockResult> {
  const lock = await tryPidLock(path.join(dir, 'owner.lock'));
  return lock.acquired ? { owned: true, release: lock.release } : { owned: false, holder: lock.holder.text };
}
