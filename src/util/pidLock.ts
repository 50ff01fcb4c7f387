import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { sleep } from './deadline.js';
import { pidAlive } from './terminate.js';

/*
 * Why not proper-lockfile: its locks go stale by an mtime it must keep touching, not by whether
 * the owner's pid lives, and it cannot say who holds one. Why temp file + link(): the lock file
 * appears atomically with `pid@host` already in it, so no one ever reads a lock made but not yet
 * written (an O_EXCL create, then a write, let two starts at once both take it).
 */

export interface LockHolder {
  /** The file's text (`pid@host`), for messages. */
  text: string;
  pid?: number;
  host?: string;
}

export type PidLock = { acquired: true; release: () => Promise<void> } | { acquired: false; holder: LockHolder };

export interface PidLockOptions {
  /** A lock older than this (ms) is stale whoever holds it: its pid may be someone else's by now (a reboot). */
  staleAfterMs?: number;
}

/** A lock without a readable `pid@host` (an older jlab-mcp between create and write) is stale after this long, in ms. */
const UNREADABLE_MS = 5000;
/** A take-over that its breaker did not finish (it died) is given up after this long, in ms: a take-over lasts milliseconds. */
const BREAK_MS = 10_000;

/**
 * One try at the lock `file`: acquired (with its release), or the live holder. A lock whose holder
 * is gone — this host, pid not alive — is taken over.
 */
export async function tryPidLock(file: string, options: PidLockOptions = {}): Promise<PidLock> {
  const me = `${process.pid}@${os.hostname()}`;
  const mine = await writeTemp(file, me);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await linked(mine, file)) return { acquired: true, release: () => releaseIfMine(file, me) };
      const seen = await readHolder(file);
      if (!seen) continue;
      if (!isStale(seen, options)) return { acquired: false, holder: seen.holder };
      await breakStale(file, seen.text, mine);
    }
    return { acquired: false, holder: { text: 'unknown (the lock file kept changing)' } };
  } finally {
    await unlink(mine).catch(() => {});
  }
}

/**
 * Removes a stale lock only while holding `<file>.break-<its text>`: two processes that both
 * judged it stale cannot both remove it, and one that judged it late finds the new holder's text.
 */
async function breakStale(file: string, staleText: string, mine: string): Promise<void> {
  const breakFile = `${file}.break-${Buffer.from(staleText).toString('hex').slice(0, 64)}`;
  if (!(await linked(mine, breakFile))) {
    const age = await ageOf(breakFile);
    if (age !== undefined && age > BREAK_MS) await unlink(breakFile).catch(() => {});
    // Another process is taking it over right now: give it the milliseconds that takes.
    else await sleep(20);
    return;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => undefined)) === staleText) await unlink(file).catch(() => {});
  } finally {
    await unlink(breakFile).catch(() => {});
  }
}

async function writeTemp(file: string, text: string): Promise<string> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
  return temp;
}

/** True when `target` now exists as a second name of `source`; false when `target` was there already. */
async function linked(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readHolder(file: string): Promise<{ text: string; holder: LockHolder; ageMs: number } | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const ageMs = await ageOf(file);
  if (text === undefined || ageMs === undefined) return undefined;
  const [pidText, host] = text.trim().split('@');
  const pid = Number(pidText);
  return { text, ageMs, holder: { text: text.trim() || '(no pid written)', ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}), ...(host ? { host } : {}) } };
}

function isStale(seen: { holder: LockHolder; ageMs: number }, options: PidLockOptions): boolean {
  const { pid, host } = seen.holder;
  if (options.staleAfterMs !== undefined && seen.ageMs > options.staleAfterMs) return true;
  if (pid === undefined) return seen.ageMs > UNREADABLE_MS;
  // A holder on another host (a shared home) cannot be checked from here: it is respected.
  return (host === undefined || host === os.hostname()) && !pidAlive(pid);
}

async function ageOf(file: string): Promise<number | undefined> {
  return stat(file).then(
    (info) => Date.now() - info.mtimeMs,
    () => undefined,
  );
}

async function releaseIfMine(file: string, me: string): Promise<void> {
  const now = await readFile(file, 'utf8').catch(() => '');
  if (now.trim() === me) await unlink(file).catch(() => {});
}
