import type { BackendDescription, JupyterBackend } from '../backends/types.js';
import { KernelProbes } from '../introspect/probe.js';
import type { ServerEndpoint } from '../jupyter/endpoint.js';
import { JupyterRestClient } from '../jupyter/restClient.js';
import { JlabError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import type { ServerRecord } from '../state/records.js';
import { displayUrl } from '../util/secrets.js';

/** The server's state for the status resource and progress: no tokens. */
export type ServerDescription = {
  profile: string;
  state: State['kind'];
  modeReason: string;
  backend: BackendDescription;
  url?: string;
  upSince?: string;
  lastError?: string;
  failedAt?: string;
};

type State =
  | { kind: 'idle' }
  | { kind: 'starting'; promise: Promise<JupyterRestClient> }
  | { kind: 'ready'; client: JupyterRestClient; since: number }
  | { kind: 'failed'; error: JlabError; at: number }
  | { kind: 'stopped' };

/**
 * Owns the one Jupyter server every session uses. It starts in the background at launch; the
 * first tool call waits for it; a failed start is reported on the call (with the backend's
 * words) and the next call tries again; a server found lost is replaced and listeners (the
 * sessions on it) are told.
 */
export class ServerSupervisor {
  private state: State = { kind: 'idle' };
  private readonly abort = new AbortController();
  private readonly lostListeners = new Set<(reason: string) => void>();
  private readonly readyListeners = new Set<() => void>();
  /** Incremented each time a new server comes up; sessions remember the one they were born on. */
  generation = 0;
  /** Our own silent requests (introspection) in flight on this server's kernels. */
  readonly probes = new KernelProbes();
  /**
   * A walltime move the agent has not been told about yet, per session id (SLURM): the words
   * for that session's next cell result, made when they are said (the replay goes on meanwhile).
   */
  private readonly pendingMoveNotes = new Map<string, () => string>();

  constructor(
    readonly backend: JupyterBackend,
    readonly modeReason: string,
    /** The profile this server runs for ("default" without profiles). */
    readonly profile = 'default',
  ) {}

  /** Kicks off the start without waiting; failures are kept for the next `ready()`. */
  startInBackground(): void {
    this.ready().catch((error: unknown) => {
      // A client that left while its server was starting is not a failure worth a warning.
      if (error instanceof JlabError && error.code === 'SHUTTING_DOWN') log.debug(`background server start dropped: ${error.message}`);
      else log.warn(`background server start failed: ${messageOf(error)}`);
    });
  }

  /** Called each time a server comes up (started or adopted). */
  onReady(listener: () => void): void {
    this.readyListeners.add(listener);
  }

  private announceReady(): void {
    for (const listener of [...this.readyListeners]) listener();
  }

  onLost(listener: (reason: string) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** A client for a live server, starting one if there is none. */
  async ready(): Promise<JupyterRestClient> {
    const state = this.state;
    switch (state.kind) {
      case 'stopped':
        throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
      case 'starting':
        return state.promise;
      case 'ready': {
        const lost = await this.backend.checkLost();
        if (!lost) return state.client;
        this.markLost(lost);
        return this.ready();
      }
      case 'idle':
      case 'failed':
        return this.begin();
    }
  }

  /** Asks the backend whether the server is gone (cheap); marks it lost if so. */
  async checkLost(): Promise<void> {
    if (this.state.kind !== 'ready') return;
    const reason = await this.backend.checkLost();
    if (reason) this.markLost(reason);
  }

  /** True when the server of `generation` has been found lost (or replaced) since. */
  isLost(generation: number): boolean {
    return this.generation !== generation || this.state.kind !== 'ready';
  }

  /** Called by whoever finds the server gone (a backend check, a dropped websocket). */
  markLost(reason: string): void {
    if (this.state.kind !== 'ready') return;
    log.warn(`Jupyter server lost: ${reason}`);
    this.state = { kind: 'idle' };
    for (const listener of [...this.lostListeners]) listener(reason);
  }

  /**
   * Takes over a server an earlier jlab-mcp left running (reattach). True when it answered and
   * is now this supervisor's server; false leaves the supervisor as it was (it starts its own).
   */
  async adopt(record: ServerRecord): Promise<boolean> {
    // A record of another kind (the settings changed between runs) is not this backend's to take.
    if (!this.backend.adopt || this.state.kind !== 'idle' || record.backend !== this.backend.kind) return false;
    const endpoint = await this.backend.adopt(record, this.abort.signal).catch((error: unknown) => {
      log.warn(`could not adopt the ${record.backend} server at ${displayUrl(record.baseUrl)}: ${messageOf(error)}`);
      return undefined;
    });
    if (!endpoint || this.state.kind !== 'idle') return false;
    this.generation++;
    this.state = { kind: 'ready', client: new JupyterRestClient(endpoint), since: Date.now() };
    this.backend.watch?.((reason) => this.markLost(reason));
    this.announceReady();
    return true;
  }

  /**
   * The backend moved to another server that is already up (the walltime move to a new SLURM
   * job): it becomes this supervisor's server without a loss; sessions move on their own
   * (SessionManager.moveSession). Returns its client.
   */
  moveTo(endpoint: ServerEndpoint): JupyterRestClient {
    if (this.state.kind !== 'ready') throw new JlabError('SERVER_LOST', 'The Jupyter server is not up; there is nothing to move from.');
    const client = new JupyterRestClient(endpoint);
    this.generation++;
    this.state = { kind: 'ready', client, since: Date.now() };
    this.announceReady();
    return client;
  }

  /** Remembers what to tell session `sessionId` about its walltime move, once. */
  noteMove(sessionId: string, note: () => string): void {
    this.pendingMoveNotes.set(sessionId, note);
  }

  /** The pending move note of session `sessionId`, taken (said once); undefined when none. */
  takeMoveNote(sessionId: string): string | undefined {
    const note = this.pendingMoveNotes.get(sessionId);
    this.pendingMoveNotes.delete(sessionId);
    return note?.();
  }

  /** Session `sessionId` ended: it will never be told. */
  dropMoveNote(sessionId: string): void {
    this.pendingMoveNotes.delete(sessionId);
  }

  /** How a later jlab-mcp reaches this server, while one is up. */
  record(): ServerRecord | undefined {
    if (this.state.kind !== 'ready') return undefined;
    const record = this.backend.record?.();
    return record ? { ...record, profile: this.profile } : undefined;
  }

  /** Exit with the keep policy: the server goes on running; this supervisor lets go of it. */
  async detach(): Promise<void> {
    this.state = { kind: 'stopped' };
    this.abort.abort(new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.'));
    if (this.backend.detach) await this.backend.detach();
    else await this.backend.stop();
  }

  private begin(): Promise<JupyterRestClient> {
    const promise = (async () => {
      try {
        const endpoint = await this.backend.start(this.abort.signal);
        const client = new JupyterRestClient(endpoint);
        if (this.state.kind === 'stopped') {
          await this.backend.stop();
          throw new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.');
        }
        this.generation++;
        this.state = { kind: 'ready', client, since: Date.now() };
        this.backend.watch?.((reason) => this.markLost(reason));
        this.announceReady();
        return client;
      } catch (error) {
        const jlab =
          error instanceof JlabError
            ? error
            : new JlabError('SERVER_START_FAILED', `Could not start the Jupyter server: ${messageOf(error)}`, { cause: error });
        if (this.state.kind !== 'stopped') this.state = { kind: 'failed', error: jlab, at: Date.now() };
        throw jlab;
      }
    })();
    this.state = { kind: 'starting', promise };
    return promise;
  }

  async stop(): Promise<void> {
    this.state = { kind: 'stopped' };
    this.abort.abort(new JlabError('SHUTTING_DOWN', 'jlab-mcp is shutting down.'));
    await this.backend.stop();
  }

  describe(): ServerDescription {
    const state = this.state;
    const base: ServerDescription = { profile: this.profile, state: state.kind, modeReason: this.modeReason, backend: this.backend.describe() };
    if (state.kind === 'ready') return { ...base, url: displayUrl(state.client.endpoint.baseUrl), upSince: new Date(state.since).toISOString() };
    if (state.kind === 'failed') return { ...base, lastError: state.error.message, failedAt: new Date(state.at).toISOString() };
    return base;
  }
}
