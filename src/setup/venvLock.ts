import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../util/deadline.js';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';
import { pidAlive } from '../util/terminate.js';

/** A lock file still without a pid after this long was left by an owner that died before writing it. */
const UNWRITTEN_MS = 5000;
/** Beyond the setup's own deadline (`timeoutMs`): its planning, and the grace to stop a step. */
const OUTLIVED_MS = 5 * 60_000;

/**
 * One installer at a time per private venv: two jlab-mcps (two projects) started on a fresh
 * machine would otherwise run pip into the same directory at once. The lock is a file next to
 * the venv holding the owner's pid; one whose owner is gone is taken over. Resolves to the release.
 */
export async function lockVenv(dir: string, signal: AbortSignal, timeoutMs: number): Promise<() => Promise<void>> {
  const file = `${dir}.lock`;
  await mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(file).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    const age = await stat(file).then((info) => Date.now() - info.mtimeMs, () => 0);
    // No pid yet: its owner may be between creating and writing it. Older than any setup can
    // last: the pid in it is someone else's now (a reboot, a reused pid), not an installer's.
    const gone = Number.isInteger(owner) ? !pidAlive(owner) : age > UNWRITTEN_MS;
    if (gone || age > timeoutMs + OUTLIVED_MS) {
      await unlink(file).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new JlabError('SERVER_START_FAILED', `Another jlab-mcp (pid ${owner}) has been setting up ${dir} for too long.`, { hint: `Wait for it, or stop it and remove ${file}; the next call tries again.` });
    }
    if (!told) log.info(`setup: another jlab-mcp (pid ${owner}) is setting up ${dir}; waiting for it`);
    told = true;
    await sleep(1000, signal);
  }
}
