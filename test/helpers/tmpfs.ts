import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why a test that needs a real full disk cannot run here, or false when it can (root mounts a tmpfs). */
export const TMPFS_SKIP: string | false =
  process.getuid?.() === 0 ? false : 'needs root: mounts a small tmpfs to get a real full disk (a read-only dir does not stop root)';

export interface Tmpfs {
  dir: string;
  /** Unmounts (lazily if something still holds it open) and removes the mount point; safe to call twice. */
  unmount: () => Promise<void>;
}

/** Mounts a tmpfs of `size` (mount's syntax: "256k", "2m") on a fresh dir under os.tmpdir(). */
export async function mountTmpfs(size: string): Promise<Tmpfs> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-tmpfs-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { timeout: 10_000 });
  let mounted = true;
  return {
    dir,
    unmount: async () => {
      if (mounted) {
        await run('umount', [dir], { timeout: 10_000 }).catch(() => run('umount', ['-l', dir], { timeout: 10_000 }));
        mounted = false;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes the filesystem holding `dir` still has free. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Fills the filesystem holding `dir` with a file `name` until exactly `leaveBytes` are free
 * (a multiple of the block size, 4096 on tmpfs); returns the filler's path.
 */
export async function fillUntil(dir: string, leaveBytes: number, name = 'filler.bin'): Promise<string> {
  const filler = path.join(dir, name);
  const size = (await freeBytes(dir)) - leaveBytes;
  if (size < 0) throw new Error(`only ${await freeBytes(dir)} bytes free on ${dir}, asked to leave ${leaveBytes}`);
  await writeFile(filler, Buffer.alloc(size));
  const left = await freeBytes(dir);
  if (left !== leaveBytes) throw new Error(`filling ${dir} left ${left} bytes free, not ${leaveBytes}`);
  return filler;
}

/** Remounts the tmpfs at `dir` read-only or read-write. */
export async function remount(dir: string, how: 'ro' | 'rw'): Promise<void> {
  await run('mount', ['-o', `remount,${how}`, dir], { timeout: 10_000 });
}
