import { randomBytes } from 'node:crypto';
import { closeSync, fsync, close, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { log } from '../util/log.js';

/** Below this size the file is written with synchronous calls: one event-loop turn, no thread hops. */
const SYNC_WRITE_LIMIT = 512 * 1024;

/**
 * Writes `content` to `target` so that readers see either the old file or the new one, never a
 * half-written one: temp file in the same directory (same filesystem, so rename is atomic),
 * rename over the target. The temp file is removed on any failure. The mode comes from the
 * umask (0666 & ~umask), like any file a user creates.
 *
 * Resolves once the new file is in place. The fsync that makes it durable against a power cut
 * follows at once in the background; a process exit loses nothing (the page cache outlives us).
 * Small files (a notebook of a few hundred cells) are written with synchronous calls: each
 * await on the thread pool cost more than the whole write, and this runs after every cell.
 */
export async function writeFileAtomic(target: string, content: string): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  if (content.length >= SYNC_WRITE_LIMIT) return writeLarge(temp, target, content);
  const fd = writeSmall(temp, target, content);
  fsync(fd, (error) => {
    if (error) log.warn(`fsync of ${target} failed: ${error.message}`);
    close(fd, () => {});
  });
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
  const written = handle;
  void written
    .sync()
    .catch((error: unknown) => log.warn(`fsync of ${target} failed: ${(error as Error).message}`))
    .finally(() => written.close().catch(() => {}));
}
