import type { ChildProcess } from 'node:child_process';
import { sleep } from './deadline.js';

/** Resolves when the child has exited (at once if it already has). */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * SIGTERM, a bounded wait for a clean exit, then SIGKILL. With `group`, the child's whole process
 * group is signalled (it must have been spawned `detached`): pip's build backends, apt's dpkg.
 */
export async function terminate(child: ChildProcess, graceMs = 5000, options: { group?: boolean } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const send = (signal: NodeJS.Signals) => {
    if (options.group && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
        return;
      } catch {
        // the group is gone (or was never made): the child alone
      }
    }
    child.kill(signal);
  };
  send('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  send('SIGKILL');
  await waitForExit(child, 2000);
}

/** True while `pid` names a process (one of another user's counts: the kernel said EPERM, not ESRCH). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to a process we have no handle on (started by an earlier jlab-mcp), a bounded wait, then SIGKILL. */
export async function terminatePid(pid: number, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  for (const until = Date.now() + graceMs; Date.now() < until; await sleep(100)) if (!pidAlive(pid)) return;
  signal('SIGKILL');
}
