import { randomBytes } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { KernelHandle } from '../jupyter/kernel.js';
import type { ManagedKernel } from '../jupyter/managedKernel.js';
import { NotebookDocument } from '../notebook/document.js';
import { resolveNotebookPath } from '../notebook/confine.js';
import { claimNotebookPath, sanitizeStem } from '../notebook/naming.js';
import { JlabError } from '../util/errors.js';
import { sleep } from '../util/deadline.js';
import { log } from '../util/log.js';
import type { SessionRecord } from '../state/records.js';
import { type RegistryDescription, type RegistrySync, spoolPathFor } from './registrySync.js';
import type { ServerPool } from './serverPool.js';
import type { ServerSupervisor } from './serverSupervisor.js';
import type { Replay, ReplayOptions } from './replay.js';
import { settleStaleMarks } from './runningMark.js';
import { type KernelStarter, kernelHandleStarter } from './kernelStarter.js';
import { ProvenanceTracker } from './provenanceTracker.js';
import { Session, type SessionOptions } from './session.js';
import { suggestedCall } from '../mcp/suggestedCall.js';

export interface SessionManagerOptions<K extends ManagedKernel = KernelHandle> {
  notebookDir: string;
  kernelStartTimeoutMs: number;
  defaultKernel?: string;
  /** Characters one stream output keeps in the notebook. */
  outputLimit?: number;
  /** What input() in a cell receives; undefined: input() fails at once. */
  stdinAnswer?: string;
  /** Saving, interrupt grace and escalation of every session (defaults: DEFAULT_SESSION_OPTIONS). */
  session?: Partial<SessionOptions>;
  /** Where kernels come from; default: real ones (KernelHandle), which is what K then is. */
  kernels?: KernelStarter<K>;
  /** How often a reconnecting kernel's server is checked, in ms; default 2500. */
  reconnectCheckMs?: number;
  /** How long a kernel websocket may try to reconnect before its sessions are given up as lost, in ms; default 60 000. */
  reconnectGiveUpMs?: number;
}

/**
 * Creates, finds and ends sessions. Every call names its session: there is no "current" one.
 * `K` is the kernel its sessions hold: KernelHandle in the app; the unit tests give it scripted
 * fakes through the `kernels` option.
 */
export class SessionManager<K extends ManagedKernel = KernelHandle> {
  private readonly sessions = new Map<string, Session<K>>();
  /** Notebooks a start call is opening right now: a second start on one of them is refused. */
  private readonly opening = new Set<string>();
  /** Sessions from before a restart whose kernel or server is gone: why, and their notebook. */
  private readonly lostSessions = new Map<string, { reason: string; notebookPath: string }>();
  /** Sessions a shutdown is closing right now: their id answers SHUTTING_DOWN, not UNKNOWN_SESSION. */
  private readonly closing = new Map<string, string>();
  private registry?: RegistrySync;
  /** Settles once the sessions of an earlier jlab-mcp have been adopted (or found gone). */
  private reattaching: Promise<void> = Promise.resolve();
  /** Where every session's runs are recorded from (host, job, environment) and their kernel timing. */
  readonly provenance = new ProvenanceTracker();
  private readonly kernels: KernelStarter<K>;
  private readonly reconnectCheckMs: number;
  private readonly reconnectGiveUpMs: number;

  constructor(
    readonly servers: ServerPool,
    private readonly options: SessionManagerOptions<K>,
  ) {
    // Without a starter of its own K is the default, KernelHandle: TypeScript cannot tie the two.
    this.kernels = options.kernels ?? (kernelHandleStarter as unknown as KernelStarter<K>);
    this.reconnectCheckMs = options.reconnectCheckMs ?? 2500;
    this.reconnectGiveUpMs = options.reconnectGiveUpMs ?? 60_000;
    servers.onCreated((supervisor) =>
      supervisor.onLost((reason) => {
        for (const session of this.sessions.values()) {
          if (session.supervisor !== supervisor) continue;
          session.markLost(`the Jupyter server was lost (${reason}).`);
          this.registry?.sessionGone(session.id);
        }
      }),
    );
  }

  get notebookDir(): string {
    return this.options.notebookDir;
  }

  /** Records servers and sessions in the registry from now on, so a later jlab-mcp can adopt them. */
  useRegistry(registry: RegistrySync): void {
    this.registry = registry;
    registry.watchServers(this.servers);
  }

  /** Runs the adoption of an earlier jlab-mcp's sessions; tool calls wait for it to settle. */
  reattachWith(task: () => Promise<void>): Promise<void> {
    this.reattaching = task().catch((error: unknown) => log.warn(`reattach: ${String(error)}`));
    return this.reattaching;
  }

  /** Sessions adopted so far may be used once the reattach has settled. */
  ready(): Promise<void> {
    return this.reattaching;
  }

  /**
   * Takes over a session an earlier jlab-mcp left: the same id, its kernel (variables intact),
   * its notebook, and the cell it was running, followed to its end. Undefined when the kernel is
   * gone (it is then reported as lost, with the resume call).
   */
  async adopt(record: SessionRecord, supervisor: ServerSupervisor): Promise<Session<K> | undefined> {
    const rest = await supervisor.ready();
    let notebook: NotebookDocument;
    try {
      notebook = await NotebookDocument.load(record.notebookPath);
    } catch (error) {
      this.markGone(record, `its notebook could not be read (${String(error)})`);
      return undefined;
    }
    const kernel = await this.kernels.adopt(
      rest,
      record.kernelId,
      this.options.kernelStartTimeoutMs,
      this.options.stdinAnswer,
      notebook.content.metadata.language_info,
    );
    if (!kernel) {
      this.markGone(record, `its kernel ${record.kernelId} no longer exists (culled after the idle timeout, or the server restarted)`);
      return undefined;
    }
    this.watchKernel(kernel, supervisor);
    kernel.setSpoolPath(record.spoolPath ?? spoolPathFor(record.notebookPath));
    const session = this.register(record.experimentName, kernel, notebook, supervisor, record.id);
    const running = record.running;
    const cell = running && notebook.cells.find((each) => each.id === running.cellId);
    if (running && cell?.cell_type === 'code') {
      session.follow(cell, { msgId: running.msgId, startedAt: Date.parse(running.startedAt) || Date.now() });
    } else if (running) {
      log.warn(`session ${record.id}: the cell it was running (${running.cellId}) is not in ${record.notebookPath}; not followed`);
    }
    log.info(`session ${record.id} adopted (kernel ${kernel.id}${running ? ', following its running cell' : ''})`);
    return session;
  }

  /**
   * Moves a session to a fresh kernel on `supervisor`'s server (the walltime move to a new SLURM
   * job): same id and notebook, recorded anew in the registry. The caller replays the notebook
   * and lets the returned old kernel go.
   */
  async moveSession(session: Session<K>, supervisor: ServerSupervisor): Promise<K> {
    const rest = await supervisor.ready();
    const kernel = await this.kernels.start(rest, session.kernel.spec.name, this.options.kernelStartTimeoutMs, this.options.stdinAnswer);
    this.watchKernel(kernel, supervisor);
    kernel.setSpoolPath(spoolPathFor(session.notebookPath));
    const old = session.moveTo(kernel, supervisor);
    this.registry?.sessionStarted(session);
    this.kernels.recordEnvironment(session, this.provenance, { again: true }); // provenance (issue 12): the new kernel's environment
    return old;
  }

  /** A session from before the restart that cannot come back: its id answers with the resume call. */
  markGone(record: SessionRecord, reason: string): void {
    this.lostSessions.set(record.id, { reason, notebookPath: record.notebookPath });
    this.registry?.sessionGone(record.id);
    log.warn(`session ${record.id} from before the restart is gone: ${reason}`);
  }

  /** The registry's state for the status resource (null when sessions do not outlive this process). */
  describeState(): (RegistryDescription & { gone_sessions: ReturnType<SessionManager<K>['listGone']> }) | null {
    return this.registry ? { ...this.registry.describe(), gone_sessions: this.listGone() } : null;
  }

  /** Sessions that could not be adopted, for list_sessions and the status resource. */
  listGone(): Array<{ session_id: string; notebook_path: string; reason: string }> {
    return [...this.lostSessions].map(([id, gone]) => ({ session_id: id, notebook_path: gone.notebookPath, reason: gone.reason }));
  }

  async startNew(experimentName: string, kernelName?: string, profile?: string): Promise<Session<K>> {
    const { kernel, supervisor } = await this.startKernel(kernelName ?? this.options.defaultKernel, profile);
    try {
      await mkdir(this.options.notebookDir, { recursive: true });
      const notebookPath = await claimNotebookPath(this.options.notebookDir, sanitizeStem(experimentName));
      const notebook = NotebookDocument.create(notebookPath, kernel.spec, kernel.languageInfo);
      await saveOrUnclaim(notebook);
      return this.register(experimentName, kernel, notebook, supervisor);
    } catch (error) {
      await kernel.shutdown();
      throw error;
    }
  }

  /**
   * Fresh kernel on an existing notebook; every code cell re-runs and its outputs are replaced.
   * The replay starts here and goes on in the background; the caller waits for it as it likes.
   */
  async resume(
    experimentName: string,
    notebookPath: string,
    profile: string | undefined,
    replayOptions: ReplayOptions,
  ): Promise<{ session: Session<K>; replay: Replay }> {
    const real = await resolveNotebookPath(this.options.notebookDir, notebookPath);
    const session = await this.whileOpening(real, async () => {
      const notebook = await NotebookDocument.load(real);
      const { kernel, supervisor } = await this.startKernel(kernelNameOf(notebook) ?? this.options.defaultKernel, profile);
      notebook.setKernelInfo(kernel.spec, kernel.languageInfo);
      settleStaleMarks(notebook.cells);
      return this.register(experimentName, kernel, notebook, supervisor);
    });
    return { session, replay: session.startReplay(replayOptions) };
  }

  /** Copies the notebook to a new file (the original is never touched) with a fresh kernel; nothing runs. */
  async continueFrom(experimentName: string, notebookPath: string, profile?: string): Promise<{ session: Session<K>; original: string }> {
    const real = await resolveNotebookPath(this.options.notebookDir, notebookPath);
    const source = await NotebookDocument.load(real);
    const { kernel, supervisor } = await this.startKernel(kernelNameOf(source) ?? this.options.defaultKernel, profile);
    try {
      const stem = `${path.basename(real, '.ipynb')}_continued`;
      source.path = await claimNotebookPath(path.dirname(real), stem);
      source.setKernelInfo(kernel.spec, kernel.languageInfo);
      settleStaleMarks(source.cells);
      await saveOrUnclaim(source);
      return { session: this.register(experimentName, kernel, source, supervisor), original: real };
    } catch (error) {
      await kernel.shutdown();
      throw error;
    }
  }

  get(sessionId: string): Session<K> {
    const session = this.sessions.get(sessionId);
    const gone = this.lostSessions.get(sessionId);
    if (!session && gone) {
      throw new JlabError('SERVER_LOST', `Session ${sessionId} did not survive the restart of jlab-mcp: ${gone.reason}.`, {
        hint: `Its notebook is intact. Start again with ${suggestedCall('start_session_resume_notebook', { notebook_path: gone.notebookPath })} to re-run it on a new kernel.`,
        context: { sessionId },
      });
    }
    const closingNotebook = this.closing.get(sessionId);
    if (!session && closingNotebook !== undefined) {
      throw new JlabError('SHUTTING_DOWN', `Session ${sessionId} is shutting down.`, {
        hint: `Its notebook is saved at ${closingNotebook}; once the shutdown is done, ${suggestedCall('start_session_resume_notebook', { notebook_path: closingNotebook })} brings it back.`,
        context: { sessionId },
      });
    }
    if (!session) {
      const known = [...this.sessions.keys()];
      throw new JlabError('UNKNOWN_SESSION', `Unknown session: ${sessionId}.`, {
        hint: known.length
          ? `Open sessions: ${known.join(', ')}. Use list_sessions to see them.`
          : 'There are no open sessions; start one with start_new_session (or start_session_resume_notebook to pick up a notebook).',
      });
    }
    return session;
  }

  /** The session, after checking (cheaply) that its server is still there. */
  async use(sessionId: string): Promise<Session<K>> {
    await this.reattaching;
    const session = this.get(sessionId);
    if (!session.lost) await session.supervisor.checkLost();
    return session;
  }

  list(): Session<K>[] {
    return [...this.sessions.values()];
  }

  /** Stops the session's kernel; its notebook stays as it is. */
  async shutdown(sessionId: string): Promise<Session<K>> {
    await this.reattaching;
    const session = this.get(sessionId);
    this.sessions.delete(sessionId);
    session.supervisor.dropMoveNote(session.id); // it will never hear of a walltime move
    this.closing.set(sessionId, session.notebookPath);
    try {
      await session.close();
    } finally {
      this.closing.delete(sessionId);
    }
    this.registry?.sessionEnded(session);
    return session;
  }

  /** Ends every session: running cells recorded as far as they got, kernels stopped, notebooks written. */
  async shutdownAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of all) {
      session.supervisor.dropMoveNote(session.id);
      this.closing.set(session.id, session.notebookPath);
    }
    await Promise.all(all.map((session) => session.close()));
    for (const session of all) this.registry?.sessionEnded(session);
  }

  /** Exit with the keep policy: kernels and running cells go on; the registry says where, for the next jlab-mcp. */
  async detachAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((session) => session.detach()));
  }

  private async startKernel(kernelName: string | undefined, profile: string | undefined): Promise<{ kernel: K; supervisor: ServerSupervisor }> {
    const supervisor = this.servers.get(profile);
    const rest = await supervisor.ready();
    try {
      const kernel = await this.kernels.start(rest, kernelName, this.options.kernelStartTimeoutMs, this.options.stdinAnswer);
      this.watchKernel(kernel, supervisor);
      return { kernel, supervisor };
    } catch (error) {
      if (kernelName && error instanceof JlabError) {
        const specs = await rest.kernelSpecs().catch(() => undefined);
        if (specs && !specs.specs.some((spec) => spec.name === kernelName)) {
          throw new JlabError('KERNEL_START_FAILED', `No kernel named "${kernelName}" on this Jupyter server.`, {
            hint: `Available kernels: ${specs.specs.map((spec) => spec.name).join(', ')} (see list_kernels).`,
          });
        }
      }
      throw error;
    }
  }

  /**
   * A dropped websocket may be a blip; ask the backend (cheaply) whether the server is gone, so
   * a running cell ends now rather than after the library's reconnect attempts.
   */
  private watchKernel(kernel: K, supervisor: ServerSupervisor): void {
    kernel.onReconnecting(() => void this.watchReconnect(kernel, supervisor));
    kernel.onLoss((loss) => {
      if (loss === 'disconnected') void supervisor.checkLost().catch(() => {});
    });
  }

  private readonly watching = new WeakSet<K>();

  /**
   * While a kernel's websocket tries to reconnect, ask the backend every few seconds whether the
   * server is gone (its answer may lag the drop: a job still COMPLETING, a cached squeue), for at
   * most a minute (reconnectCheckMs, reconnectGiveUpMs). Without this a dead server is noticed only after the library gives up.
   */
  private async watchReconnect(kernel: K, supervisor: ServerSupervisor): Promise<void> {
    if (this.watching.has(kernel)) return;
    this.watching.add(kernel);
    try {
      const generation = supervisor.generation;
      for (const until = Date.now() + this.reconnectGiveUpMs; Date.now() < until; ) {
        if (kernel.connectionStatus === 'connected' || supervisor.isLost(generation)) return;
        await supervisor.checkLost().catch(() => {});
        await sleep(this.reconnectCheckMs);
      }
      if (kernel.connectionStatus === 'connected' || kernel.connection.isDisposed) return;
      // The server says it is there, but this kernel's websocket will not come back (a network
      // path cut, a proxy gone): end the running cell and stop the library's endless retries.
      const reason = `its kernel's websocket could not reconnect for ${this.reconnectGiveUpMs / 1000} s (the network path to the Jupyter server is cut?)`;
      for (const session of this.sessions.values()) if (session.kernel === kernel) session.markLost(reason);
    } finally {
      this.watching.delete(kernel);
    }
  }

  private register(experimentName: string, kernel: K, notebook: NotebookDocument, supervisor: ServerSupervisor, adoptedId?: string): Session<K> {
    let id = adoptedId ?? randomBytes(4).toString('hex');
    while (!adoptedId && (this.sessions.has(id) || this.lostSessions.has(id))) id = randomBytes(4).toString('hex');
    if (!adoptedId) kernel.setSpoolPath(spoolPathFor(notebook.path));
    const session = new Session(id, experimentName, kernel, notebook, supervisor, {
      outputLimit: this.options.outputLimit,
      ...this.options.session,
      provenance: this.provenance,
    });
    this.sessions.set(id, session);
    this.registry?.sessionStarted(session);
    this.kernels.recordEnvironment(session, this.provenance, {}); // provenance (issue 12): the kernel's environment, once per session
    log.info(`session ${id} started (kernel ${kernel.id}, notebook ${notebook.path})`);
    return session;
  }

  /**
   * Runs a start on an existing notebook while holding it: a second start on the same file, or
   * one already open in a session, is refused, so there is never a second writer.
   */
  private async whileOpening<T>(realPath: string, start: () => Promise<T>): Promise<T> {
    this.assertNotOpen(realPath);
    this.opening.add(realPath);
    try {
      return await start();
    } finally {
      this.opening.delete(realPath);
    }
  }

  private assertNotOpen(realPath: string): void {
    if (this.opening.has(realPath)) {
      throw new JlabError('NOTEBOOK_BUSY', `Notebook ${realPath} is already being opened by another start call; two writers would corrupt it.`, {
        hint: 'Wait for that call to return and use its session (list_sessions shows it).',
      });
    }
    for (const session of [...this.sessions.values()]) {
      if (session.notebookPath !== realPath) continue;
      if (session.lost) {
        // Its server is gone and its last cell was saved: the resume takes the notebook over.
        this.sessions.delete(session.id);
        continue;
      }
      throw new JlabError('NOTEBOOK_BUSY', `Notebook ${realPath} is already open in session ${session.id}; two writers would corrupt it.`, {
        hint: `Keep using session ${session.id}, shut it down first, or fork the notebook with start_session_continue_notebook.`,
      });
    }
  }
}

/** First save of a file we just claimed; if it fails the empty claimed file is removed again. */
async function saveOrUnclaim(notebook: NotebookDocument): Promise<void> {
  try {
    await notebook.save();
  } catch (error) {
    await unlink(notebook.path).catch(() => {});
    throw error;
  }
}

function kernelNameOf(notebook: NotebookDocument): string | undefined {
  const name = notebook.content.metadata.kernelspec?.name;
  return typeof name === 'string' && name ? name : undefined;
}
