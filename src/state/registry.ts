import { open, readFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../notebook/atomicWrite.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { acquireOwnerLock } from './ownerLock.js';
import { parseRegistryContent, type PersistedTask, type RegistryContent, type ServerRecord, type SessionRecord, type SweepRecord } from './records.js';
import { ensureStateDir } from './stateDir.js';

const FILE = 'registry.json';

/**
 * The session registry on disk: per server how to reach it again, per session its kernel,
 * notebook and running cell. One writer per state directory (a lock); a second jlab-mcp on the
 * same directory reads only. Every change is written atomically, coalesced per event-loop
 * turn. A registry that cannot be parsed is set aside (renamed) and reported, never fatal.
 */
export class SessionRegistry {
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  private constructor(
    readonly dir: string,
    /** What the previous jlab-mcp left: the servers and sessions to adopt. */
    readonly previous: RegistryContent | undefined,
    private content: RegistryContent,
    /** Undefined when another process owns the directory: then nothing is written. */
    private readonly releaseLock: (() => Promise<void>) | undefined,
    /** Why this process reads only, for the log and the status resource. */
    readonly readOnlyReason: string | undefined,
    /** A registry that could not be read and was set aside, for the status resource. */
    readonly setAside: string | undefined,
  ) {}

  static async open(dir: string): Promise<SessionRegistry> {
    await ensureStateDir(dir);
    const lock = await acquireOwnerLock(dir);
    const file = path.join(dir, FILE);
    const fresh: RegistryContent = {
      version: 1,
      owner: { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() },
      servers: {},
      sessions: {},
    };
    if (!lock.owned) {
      const reason = `another jlab-mcp (${lock.holder}) owns the state directory ${dir}; this one reads only: its sessions will not be adopted after a restart (remove ${path.join(dir, 'owner.lock')} if that process is gone)`;
      log.warn(reason);
      return new SessionRegistry(dir, undefined, fresh, undefined, reason, undefined);
    }
    let previous: RegistryContent | undefined;
    let setAside: string | undefined;
    try {
      const parsed = parseRegistryContent(JSON.parse(await readFile(file, 'utf8')));
      if (!parsed.ok) throw new Error(parsed.why);
      previous = parsed.content;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        setAside = `${file}.corrupt-${Date.now()}`;
        await rename(file, setAside).catch(() => {});
        log.warn(`the session registry ${file} could not be read (${messageOf(error)}); set aside as ${setAside}, starting with none`);
      }
    }
    const registry = new SessionRegistry(
      dir,
      previous,
      { ...fresh, servers: { ...previous?.servers }, sessions: { ...previous?.sessions }, tasks: { ...previous?.tasks }, sweeps: { ...previous?.sweeps } },
      lock.release,
      undefined,
      setAside,
    );
    await registry.ensureFile(file);
    return registry;
  }

  get writable(): boolean {
    return this.releaseLock !== undefined;
  }

  get servers(): Readonly<Record<string, ServerRecord>> {
    return this.content.servers;
  }

  get sessions(): Readonly<Record<string, SessionRecord>> {
    return this.content.sessions;
  }

  setServer(record: ServerRecord): void {
    this.content.servers[record.profile] = record;
    this.schedule();
  }

  removeServer(profile: string): void {
    if (!(profile in this.content.servers)) return;
    delete this.content.servers[profile];
    this.schedule();
  }

  setSession(record: SessionRecord): void {
    this.content.sessions[record.id] = record;
    this.schedule();
  }

  /** Changes one session's record (e.g. its running cell); nothing if it is not registered. */
  patchSession(id: string, patch: Partial<SessionRecord>): void {
    const record = this.content.sessions[id];
    if (!record) return;
    this.content.sessions[id] = { ...record, ...patch };
    this.schedule();
  }

  removeSession(id: string): void {
    if (!(id in this.content.sessions)) return;
    delete this.content.sessions[id];
    this.schedule();
  }

  get tasks(): Readonly<Record<string, PersistedTask>> {
    return this.content.tasks ?? {};
  }

  setTask(record: PersistedTask): void {
    (this.content.tasks ??= {})[record.taskId] = record;
    this.schedule();
  }

  removeTask(taskId: string): void {
    if (!this.content.tasks || !(taskId in this.content.tasks)) return;
    delete this.content.tasks[taskId];
    this.schedule();
  }

  /** Sweeps outlive every process (src/sweeps/): only cancel_sweep ends their runs, never an exit. */
  get sweeps(): Readonly<Record<string, SweepRecord>> {
    return this.content.sweeps ?? {};
  }

  setSweep(record: SweepRecord): void {
    (this.content.sweeps ??= {})[record.id] = record;
    this.schedule();
  }

  /** Writes pending changes now (at exit) and releases the lock when `release`. */
  async flush(release = false): Promise<void> {
    if (this.writable) {
      this.scheduled = false;
      await this.write();
    }
    if (release) await this.releaseLock?.();
  }

  private schedule(): void {
    if (!this.writable || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      if (!this.scheduled) return;
      this.scheduled = false;
      void this.write();
    });
  }

  private write(): Promise<void> {
    const text = `${JSON.stringify(this.content, null, 1)}\n`;
    const file = path.join(this.dir, FILE);
    this.writing = this.writing
      .then(async () => {
        await writeFileAtomic(file, text);
      })
      .catch((error: unknown) => log.warn(`could not write the session registry ${file}: ${messageOf(error)}`));
    return this.writing;
  }

  /** Creates the file 0600 before its first atomic write, whose rewrites keep that mode. */
  private async ensureFile(file: string): Promise<void> {
    const handle = await open(file, 'a', 0o600);
    await handle.chmod(0o600);
    await handle.close();
    await this.write();
  }
}

/** The registry as it is on disk, without taking the lock (for `jlab-mcp connect`); undefined when there is none or it does not check out (logged). */
export async function readRegistry(dir: string): Promise<RegistryContent | undefined> {
  const file = path.join(dir, FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: ReturnType<typeof parseRegistryContent>;
  try {
    parsed = parseRegistryContent(JSON.parse(text));
  } catch (error) {
    parsed = { ok: false, why: `not JSON (${messageOf(error)})` };
  }
  if (parsed.ok) return parsed.content;
  log.warn(`the session registry ${file} is not used: ${parsed.why}`);
  return undefined;
}
