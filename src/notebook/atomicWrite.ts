import { randomBytes } from 'node:crypto';
import { type BigIntStats, closeSync, constants, fchmodSync, fstatSync, openSync, renameSync, statSync, unlinkSync, writevSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { log } from '../util/log.js';
import { chunksAfter } from './notebookChunks.js';

/** Below this size the file is written with synchronous calls: one event-loop turn, no thread hops. */
const SYNC_WRITE_LIMIT = 512 * 1024;
/** How soon a written file is made durable against a power cut, in ms. */
const FSYNC_DELAY_MS = 1000;

/**
 * Writes `content` to `target` so that readers see either the old file or the new one, never a
 * half-written one: temp file in the same directory (same filesystem, so rename is atomic),
 * every byte written (a short write on a full disk is continued until it fails), closed, then
 * renamed over the target. On any failure the temp file is removed and the target is untouched.
 * An existing target keeps its mode; a new file gets its mode from the umask (0666 & ~umask),
 * like any file a user creates.
 *
 * Resolves once the new file is in place. The fsync that makes it durable against a power cut
 * follows within a second (one per burst of saves); a process exit loses nothing either way
 * (the page cache outlives us).
 * Small files (a notebook of a few hundred cells) are written with synchronous calls: each
 * await on the thread pool cost more than the whole write, and this runs after every cell.
 * `content` is text, or the file's bytes in chunks (written with writev, not joined first).
 * Resolves with the stat of the file as written (taken before it was closed and renamed): what
 * the target holds unless someone wrote to it since — see `stillHolds`.
 */
export async function writeFileAtomic(target: string, content: string | readonly Buffer[]): Promise<BigIntStats> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const chunks = typeof content === 'string' ? [Buffer.from(content, 'utf8')] : content;
  const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  // Read on every save (stat ~3 µs, fchmod ~2 µs; a save takes ~200 µs): a cached mode would
  // undo a chmod the user made while the session ran.
  const mode = statSync(target, { throwIfNoEntry: false })?.mode;
  const written = size >= SYNC_WRITE_LIMIT ? await writeLarge(temp, target, chunks, mode) : writeSmall(temp, target, chunks, mode);
  scheduleFsync(target);
  return written;
}

/**
 * The stat of `target` when it still holds the file a write produced (`written`, its stat before
 * the rename; a rename changes only the ctime), else `written` itself: someone wrote to the file
 * between our rename and this stat, and a later comparison must see their version as a change.
 */
export function stillHolds(target: string, written: BigIntStats): BigIntStats {
  const now = statSync(target, { bigint: true, throwIfNoEntry: false });
  return now && now.ino === written.ino && now.size === written.size && now.mtimeNs === written.mtimeNs ? now : written;
}

const FULL = 'Free space on that disk';
const LOCKED = 'Make the notebook and its directory writable';
/** errno code → the cause in plain words and what a person does about it. */
const WRITE_ERRORS: Record<string, { words: string; remedy: string }> = {
  ENOSPC: { words: 'disk full', remedy: FULL },
  EDQUOT: { words: 'disk quota exceeded', remedy: FULL },
  EACCES: { words: 'permission denied', remedy: LOCKED },
  EPERM: { words: 'permission denied', remedy: LOCKED },
  EROFS: { words: 'read-only file system', remedy: LOCKED },
};

/**
 * The cause of a failed write in plain words: "disk full", "disk quota exceeded", "permission
 * denied", "read-only file system", or else the system's own message.
 */
export function describeWriteError(error: unknown): string {
  return WRITE_ERRORS[errnoOf(error) ?? '']?.words ?? (error instanceof Error ? error.message : String(error));
}

/** What to do about a failed write, in one imperative phrase ("Free space on that disk"). */
export function remedyForWriteError(error: unknown): string {
  return WRITE_ERRORS[errnoOf(error) ?? '']?.remedy ?? 'Fix the cause above';
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null | undefined)?.code;
}

const pendingFsyncs = new Map<string, NodeJS.Timeout>();

/**
 * Makes the newest version of `target` durable within FSYNC_DELAY_MS. One fsync per burst of
 * saves instead of one per save: an fsync still running when the next rename replaces the file
 * made that rename wait for the disk (~0.7 ms a cell here).
 */
export function scheduleFsync(target: string): void {
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
    // Non-blocking: someone may have replaced the file with a FIFO meanwhile, whose plain open
    // waits for a writer forever (and keeps the process from exiting); only a regular file is synced.
    const handle = await open(target, constants.O_RDONLY | constants.O_NONBLOCK);
    await (async () => {
      if ((await handle.stat()).isFile()) await handle.sync();
    })().finally(() => handle.close());
  } catch (error) {
    // Gone since (a journal ended by a full write): nothing left to make durable.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    log.warn(`fsync of ${target} failed: ${(error as Error).message}`);
  }
}

/** Permission bits (and setuid/setgid/sticky) of a mode from stat. */
const MODE_BITS = 0o7777;

function writeSmall(temp: string, target: string, chunks: readonly Buffer[], mode: number | undefined): BigIntStats {
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o666);
    // open() applies the umask, so the old file's mode is set explicitly.
    if (mode !== undefined) fchmodSync(fd, mode & MODE_BITS);
    for (let rest = nonEmpty(chunks); rest.length > 0; ) {
      rest = chunksAfter(rest, progressOf(writevSync(fd, rest), temp));
    }
    const stat = fstatSync(fd, { bigint: true });
    // close() before rename(): on NFS a write error (a full disk, a quota) may only show here.
    const written = fd;
    fd = undefined;
    closeSync(written);
    renameSync(temp, target);
    return stat;
  } catch (error) {
    try {
      if (fd !== undefined) closeSync(fd);
    } catch {
      // the write already failed; that error is the one to report
    }
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already gone
    }
    throw error;
  }
}

async function writeLarge(temp: string, target: string, chunks: readonly Buffer[], mode: number | undefined): Promise<BigIntStats> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', 0o666);
    if (mode !== undefined) await handle.chmod(mode & MODE_BITS);
    for (let rest = nonEmpty(chunks); rest.length > 0; ) {
      const { bytesWritten } = await handle.writev(rest);
      rest = chunksAfter(rest, progressOf(bytesWritten, temp));
    }
    const stat = await handle.stat({ bigint: true });
    const opened = handle;
    handle = undefined;
    await opened.close();
    await rename(temp, target);
    return stat;
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** Writes of only empty chunks would report 0 bytes, which progressOf takes for a stuck write. */
function nonEmpty(chunks: readonly Buffer[]): Buffer[] {
  return chunks.filter((chunk) => chunk.length > 0);
}

/** The byte count a write() returned; 0 for a non-empty write would loop forever, so it is an error. */
function progressOf(written: number, temp: string): number {
  if (written > 0) return written;
  throw Object.assign(new Error(`write to ${temp} wrote 0 bytes`), { code: 'EIO' });
}
