import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { holdsWithin } from './poll.js';

/** True while `pid` names a live process (zombies count as dead). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** Polls until every pid is gone; returns the ones still alive at the deadline. */
export async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  let alive: number[] = pids;
  const stillAlive = async () => (await Promise.all(pids.map(isAlive))).flatMap((up, i) => (up ? [pids[i]!] : []));
  await holdsWithin('processes gone', async () => (alive = await stillAlive()).length === 0, { timeoutMs });
  return alive;
}

/** Pids of processes whose command line contains `needle`. */
export async function pidsMatching(needle: string): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid);
}
