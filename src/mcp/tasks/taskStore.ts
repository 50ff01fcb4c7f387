import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { isTerminal, type TaskGeneration, type TaskRecord } from './taskRecord.js';

/** Where task records are kept across restarts (the session registry); absent: memory only. */
export interface TaskPersistence {
  load(): Record<string, TaskRecord>;
  save(record: TaskRecord): void;
  remove(taskId: string): void;
}

export interface TaskStoreOptions {
  /** Default time-to-live of a task from its creation, in ms. */
  ttlMs: number;
  /** The poll interval suggested to clients, in ms. */
  pollIntervalMs: number;
  persistence?: TaskPersistence;
  now?: () => number;
  /** Finished tasks kept at most, oldest forgotten first whatever their TTL (default 1000). */
  maxFinished?: number;
}

const MAX_FINISHED_TASKS = 1000;

/**
 * The tasks of this jlab-mcp (and those an earlier one left in the registry): creation, the
 * working → completed | failed | cancelled state machine (a terminal state never changes
 * again), and expiry at `createdAt + ttlMs`. Every change is handed to the persistence.
 */
export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  /** Tasks a client knows the id of: only these are persisted (a call answered directly never is). */
  private readonly published = new Set<string>();
  /** Left working by an earlier jlab-mcp: nobody may ever poll (follow) them again. */
  private readonly inherited = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: TaskStoreOptions) {
    this.now = options.now ?? Date.now;
    for (const record of Object.values(options.persistence?.load() ?? {})) {
      this.tasks.set(record.taskId, record);
      this.published.add(record.taskId);
      if (!isTerminal(record.status)) this.inherited.add(record.taskId);
    }
    this.purgeExpired();
  }

  get pollIntervalMs(): number {
    return this.options.pollIntervalMs;
  }

  /** A new working task; not yet persisted: `publish` it before its id is handed out. */
  create(generation: TaskGeneration, toolName: string, sessionId: string | undefined, ttlMs = this.options.ttlMs): TaskRecord {
    this.purgeExpired();
    const at = new Date(this.now()).toISOString();
    // 128 random bits: task ids are bearer handles (the spec asks that they cannot be guessed).
    const record: TaskRecord = {
      taskId: randomBytes(16).toString('hex'),
      generation,
      toolName,
      ...(sessionId !== undefined && { sessionId }),
      status: 'working',
      statusMessage: 'starting',
      createdAt: at,
      lastUpdatedAt: at,
      // A client may ask for less than the setting, never more: records must expire.
      ttlMs: Math.min(ttlMs, this.options.ttlMs),
      pollIntervalMs: this.options.pollIntervalMs,
    };
    this.tasks.set(record.taskId, record);
    return record;
  }

  /** The id goes to the client now: from here on the task is kept in the registry. */
  publish(taskId: string): void {
    const record = this.tasks.get(taskId);
    if (!record || this.published.has(taskId)) return;
    this.published.add(taskId);
    this.options.persistence?.save(record);
  }

  /** The task, or undefined when unknown or past its TTL (then it is forgotten). */
  get(taskId: string): TaskRecord | undefined {
    const record = this.tasks.get(taskId);
    if (record && this.expired(record)) {
      this.forget(taskId);
      return undefined;
    }
    return record;
  }

  list(): TaskRecord[] {
    this.purgeExpired();
    return [...this.tasks.values()];
  }

  /** Forgets a task nobody will poll (its call was answered directly). */
  discard(taskId: string): void {
    this.forget(taskId);
  }

  /** A new status line while working; ignored once the task is terminal or the text is unchanged. */
  progress(taskId: string, statusMessage: string): void {
    const record = this.tasks.get(taskId);
    if (!record || isTerminal(record.status) || record.statusMessage === statusMessage) return;
    this.update(record, { statusMessage });
  }

  /** Records where the task works once known (a start's new session). */
  setSession(taskId: string, sessionId: string): void {
    const record = this.tasks.get(taskId);
    if (record && record.sessionId !== sessionId) this.update(record, { sessionId });
  }

  complete(taskId: string, result: CallToolResult, statusMessage?: string): void {
    this.finish(taskId, { status: 'completed', result, statusMessage: statusMessage ?? (result.isError ? 'finished with an error result' : 'finished') });
  }

  fail(taskId: string, error: { code: number; message: string }): void {
    this.finish(taskId, { status: 'failed', error, statusMessage: error.message });
  }

  cancelled(taskId: string, statusMessage: string): void {
    this.finish(taskId, { status: 'cancelled', statusMessage });
  }

  private finish(taskId: string, patch: Partial<TaskRecord>): void {
    const record = this.tasks.get(taskId);
    if (!record || isTerminal(record.status)) return;
    this.update(record, patch);
  }

  private update(record: TaskRecord, patch: Partial<TaskRecord>): void {
    Object.assign(record, patch, { lastUpdatedAt: new Date(this.now()).toISOString() });
    if (this.published.has(record.taskId)) this.options.persistence?.save(record);
  }

  /**
   * A finished task expires at createdAt + ttl; one still working (a two-day cell) keeps its id
   * until it ends, except one an earlier jlab-mcp left that nobody followed (no update) for a ttl.
   */
  private expired(record: TaskRecord): boolean {
    if (isTerminal(record.status)) return Date.parse(record.createdAt) + record.ttlMs <= this.now();
    return this.inherited.has(record.taskId) && (Date.parse(record.lastUpdatedAt) || Date.parse(record.createdAt)) + record.ttlMs <= this.now();
  }

  private forget(taskId: string): void {
    this.tasks.delete(taskId);
    this.inherited.delete(taskId);
    if (this.published.delete(taskId)) this.options.persistence?.remove(taskId);
  }

  /** Drops expired tasks, then the oldest finished ones past the cap: a flood of task calls cannot grow the registry without bound. */
  private purgeExpired(): void {
    for (const record of this.tasks.values()) if (this.expired(record)) this.forget(record.taskId);
    let finished = [...this.tasks.values()].filter((record) => isTerminal(record.status)).length;
    // The map keeps insertion (creation) order: the first finished ones are the oldest.
    for (const record of this.tasks.values()) {
      if (finished <= (this.options.maxFinished ?? MAX_FINISHED_TASKS)) break;
      if (!isTerminal(record.status)) continue;
      this.forget(record.taskId);
      finished--;
    }
  }
}
