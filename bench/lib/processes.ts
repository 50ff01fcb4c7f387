import { readFileSync } from 'node:fs';
import { sleep } from './timeout.js';

/** True while `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it is gone for our purposes.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits up to `graceMs` for `pid` to exit, then SIGKILLs it and waits a little more. */
export async function killAndWait(pid: number, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const hard = Date.now() + 3000;
  while (pidAlive(pid) && Date.now() < hard) await sleep(50);
}
