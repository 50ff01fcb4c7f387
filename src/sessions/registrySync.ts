import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ManagedKernel } from '../jupyter/managedKernel.js';
import type { SessionRegistry } from '../state/registry.js';
import type { ServerPool } from './serverPool.js';
import type { Session } from './session.js';

/** Where a session's Python kernel spools the running cell's messages: a hidden file next to the notebook. */
export function spoolPathFor(notebookPath: string): string {
  return path.join(path.dirname(notebookPath), `.${path.basename(notebookPath)}.jlab-spool.jsonl`);
}

/** Where the registry is and whether this process writes it, for the status resource. */
export type RegistryDescription = {
  dir: string;
  writable: boolean;
  read_only_reason: string | null;
  /** Where an unreadable registry was moved to. */
  set_aside: string | null;
};

/**
 * Keeps the session registry in step with the live servers and sessions: a server is recorded
 * when it comes up and dropped when lost; a session when it starts, its running cell when it has
 * run long enough to matter, and dropped when it ends.
 */
export class RegistrySync {
  constructor(private readonly registry: SessionRegistry) {}

  watchServers(servers: ServerPool): void {
    servers.onCreated((supervisor) => {
      supervisor.onReady(() => {
        const record = supervisor.record();
        if (record) this.registry.setServer(record);
      });
      supervisor.onLost(() => this.registry.removeServer(supervisor.profile));
    });
  }

  sessionStarted(session: Session<ManagedKernel>): void {
    this.registry.setSession({
      id: session.id,
      experimentName: session.experimentName,
      profile: session.supervisor.profile,
      kernelId: session.kernel.id,
      kernelName: session.kernel.spec.name,
      notebookPath: session.notebookPath,
      spoolPath: session.kernel.spoolPath,
    });
    session.onRunning = (running) =>
      this.registry.patchSession(session.id, {
        running: running && { msgId: running.msgId, cellId: running.cellId, startedAt: new Date(running.startedAt).toISOString() },
      });
  }

  /** The session ended (shut down, lost): its record and spool file go. */
  sessionEnded(session: Session<ManagedKernel>): void {
    this.registry.removeSession(session.id);
    if (session.kernel.spoolPath) void unlink(session.kernel.spoolPath).catch(() => {});
  }

  /** A session that cannot come back (lost server, kernel gone): nothing to adopt later. */
  sessionGone(id: string): void {
    this.registry.removeSession(id);
  }

  /** Servers stopped at exit (policy shutdown) are forgotten. */
  serversStopped(servers: ServerPool): void {
    for (const supervisor of servers.all()) this.registry.removeServer(supervisor.profile);
  }

  /** For the status resource: where the registry is and whether this process writes it. */
  describe(): RegistryDescription {
    return {
      dir: this.registry.dir,
      writable: this.registry.writable,
      read_only_reason: this.registry.readOnlyReason ?? null,
      set_aside: this.registry.setAside ?? null,
    };
  }

  flush(release: boolean): Promise<void> {
    return this.registry.flush(release);
  }
}
