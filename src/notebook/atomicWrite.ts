import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { log } from '../util/log.js';

/** Below this size the file is written with synchronous calls: one event-loop turn, no thread hops. */
const SYNC_WRITE_LIMIT = 512 * 1024;
/** How soon a written file is made durable against a power cut, in ms. */
const FSYNC_DELAY_MS = 1000;

/**
 * Writes `content` to `target` so that readers see either the old file or the new one, never a
 * half-written one: temp file in the same directory (same filesystem, so rename is atomic),
 * rename over the target. The temp file is removed on any failure. The mode comes from the
 * umask (0666 & ~umask), like any file a user creates.
 *
 * Resolves once the new file is in place. The fsync that makes it durable against a power cut
 * follows within a second (one per burst of saves); a process exit loses nothing either way
 * (the page cache outlives us).
 * Small files (a notebook of a few hundred cells) are written with synchronous calls: each
 * await on the thread pool cost more than the whole write, and this runs after every cell.
 */
export async function writeFileAtomic(target: string, content: string): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  if (content.length >= SYNC_WRITE_LIMIT) await writeLarge(temp, target, content);
  else closeSync(writeSmall(temp, target, content));
  scheduleFsync(target);
}

const pendingFsyncs = new Map<string, NodeJS.Timeout>();

/**
 * Makes the newest version of `target` durable within FSYNC_DELAY_MS. One fsync per burst of
 * saves instead of one per save: an fsync still running when the next rename replaces the file
 * made that rename wait for the disk (~0.7 ms a cell here).
 */
function scheduleFsync(target: string): void {
  if (pendingFsyncs.has(target)) return;
  const timer = setTimeout(() => {
    pendingFsyncs.delete(target);
    void fsyncFile(target);
  }, FSYNC_DELAY_MS);
  timer.unref();
  pendingFsyncs.set(target, timer);
}

/** Flushes every pending fsync now (at shutdown). */
export async function flushPendingFsyncs(): Promise<void> {
  const targets = [...pendingFsyncs.keys()];
  for (const timer of pendingFsyncs.values()) clearTimeout(timer);
  pendingFsyncs.clear();
  await Promise.all(targets.map(fsyncFile));
}

/** fsync of the file now at `target`; a failure is logged, never thrown. */
async function fsyncFile(target: string): Promise<void> {
  try {
    const handle = await open(target, 'r');
    await handle.sync().finally(() => handle.close());
  } catch (error) {
    log.warn(`fsync of ${target} failed: ${(error as Error).message}`);
  }
}

function writeSmall(temp: string, target: string, content: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o666);
    writeSync(fd, content, null, 'utf8');
    renameSync(temp, target);
    return fd;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already gone
    }
    throw error;
  }
}

async function writeLarge(temp: string, target: string, content: string): Promise<void> {
  let handle;
  try {
    handle = await open(temp, 'wx', 0o666);
    await handle.writeFile(content, 'utf8');
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
}
