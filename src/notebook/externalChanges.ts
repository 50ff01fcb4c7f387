import { createHash } from 'node:crypto';
import { lstatSync, statSync, type BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RUNNING_MARK_KEY } from '../sessions/runningMark.js';
import { sleep } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { BaseHistory, revisionOf, stampRevision, type StampedBase } from './baseHistory.js';
import { applyMerge, mergeNotebook, type MergeBase } from './merge.js';
import { brokenFileNote, missingFileNote, mergeNotes, repairedFileNote } from './mergeNotes.js';
import type { Cell, NotebookContent } from './types.js';

/** Reads of a file that does not parse (someone mid-save) before it counts as broken. */
const PARSE_ATTEMPTS = 4;
const PARSE_RETRY_MS = 150;
/** A file with whole-second mtimes (FAT, HFS+, some NFS) may change twice within one stamp: this long after its mtime its content is checked. */
const COARSE_MTIME_WINDOW_MS = 3000;

/** What the document gives the disk check: its cells and how it serializes them. */
export interface DiskHost {
  readonly path: string;
  readonly content: NotebookContent;
  /** A cell's serialized text (cached by the document). */
  textOf(cell: Cell): string;
  changed(cell: Cell): void;
  freshCellId(taken?: ReadonlySet<string>): string;
}

/** Parses a notebook file (throws NOTEBOOK_INVALID) and renders one from per-cell texts. */
export interface NotebookCodec {
  parse(text: string, path: string): NotebookContent;
  render(shell: Record<string, unknown>, texts: readonly string[]): string;
}

/** The base a save will leave on disk, captured while it serializes. */
export interface PendingBase {
  revision: number;
  shell: string;
  cells: Array<{ id: string; text: string }>;
}

/** What jlab-mcp knows the file at `path` holds. */
interface Known {
  path: string;
  stat: BigIntStats;
  shell: string;
  cells: MergeBase['cells'];
  /** SHA-256 of the file's bytes; computed from the base only when a check needs it. */
  hash?: string;
  /** The revision stamped in the file (baseHistory.ts), if any. */
  revision?: number;
}

/**
 * Someone else's edits to the notebook file (a person in JupyterLab or an editor, a script)
 * while the session runs. Before each write the file is stat'ed (~5 µs); only when its
 * identity, size, mtime or ctime moved (or a coarse mtime is too recent to trust) are its
 * bytes read and their SHA-256 compared with what jlab-mcp last wrote. Different content is
 * merged into the session's notebook (merge.ts) before it is written, and the agent is told.
 * Each write stamps a revision in the notebook's metadata, and the last few states of the file
 * are kept by revision: a copy saved from an older one merges against the state it came from.
 * A file that does not parse is never overwritten: the session's version goes aside.
 */
export class DiskSync {
  private known?: Known;
  private broken?: { stat: BigIntStats; aside: string };
  private missing = false;
  private readonly notes: string[] = [];
  private readonly history = new BaseHistory();
  /** The highest revision written or seen; the next write stamps one more. */
  private revision = 0;

  constructor(private readonly codec: NotebookCodec) {}

  /** Notes for the agent since the last call (merges, conflicts, a broken file). */
  takeNotes(): string[] {
    return this.notes.splice(0);
  }

  /** The file as just read is the base (a loaded notebook); `stat` is from before the read. */
  loaded(host: DiskHost, bytes: Buffer, stat: BigIntStats | undefined): void {
    if (!stat) return;
    const revision = revisionOf(host.content.metadata);
    this.known = { path: host.path, stat, ...baseOf(host), hash: sha256(bytes), revision };
    this.remember(revision, this.known);
  }

  /** Stamps the next revision into the notebook and captures the base while the document serializes for a write. */
  startSnapshot(content: NotebookContent): PendingBase {
    const revision = ++this.revision;
    stampRevision(content.metadata, revision);
    return { revision, shell: JSON.stringify({ ...content, cells: [] }), cells: [] };
  }

  /** After a successful write of `target`; `stat` is the file we wrote as it stands (`stillHolds`). */
  written(host: DiskHost, target: string, pending: PendingBase, stat: BigIntStats): void {
    if (target !== host.path) return; // the aside file: the base stays what the notebook file last held
    this.known = { path: target, stat, shell: pending.shell, cells: pending.cells, revision: pending.revision };
    this.remember(pending.revision, pending);
  }

  /**
   * Picks up someone else's change before a write (or a read_notebook): merges it into the
   * session's notebook. Returns where to write — the notebook, or the aside file while the
   * notebook does not parse — and whether the session has anything the file lacks.
   */
  async reconcile(host: DiskHost): Promise<{ target: string; needsWrite: boolean }> {
    const known = this.known;
    if (!known || known.path !== host.path) return { target: host.path, needsWrite: true };
    let stat = statSync(host.path, { bigint: true, throwIfNoEntry: false });
    if (!stat) {
      if (!this.missing) this.notes.push(missingFileNote(host.path));
      this.missing = true;
      this.broken = undefined;
      return { target: host.path, needsWrite: true };
    }
    this.missing = false;
    if (sameFile(stat, known.stat) && !recentCoarse(stat)) return { target: host.path, needsWrite: false };
    if (this.broken && sameFile(stat, this.broken.stat)) return { target: this.broken.aside, needsWrite: true };
    // A read of a FIFO or a device never ends (or never stops growing); a directory cannot be read: not read at all.
    if (!stat.isFile()) return this.setAside(host, stat, 'it is not a regular file any more');
    for (let attempt = 1; ; attempt++) {
      const bytes = await readFile(host.path).catch(() => undefined);
      if (bytes && sha256(bytes) === this.hashOf(known)) {
        known.stat = stat;
        return this.healed(host, { target: host.path, needsWrite: false });
      }
      let theirs: NotebookContent | undefined;
      let why = 'it cannot be read';
      try {
        if (bytes) theirs = this.codec.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes), host.path);
      } catch (error) {
        why = messageOf(error);
      }
      if (theirs && bytes) {
        try {
          return this.healed(host, this.merge(host, known, theirs, bytes, stat));
        } catch (error) {
          // A bug must not cost their file or our saves: ours goes aside, as for a file that does not parse.
          log.error(`merging ${host.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          return this.setAside(host, stat, `it could not be merged: ${messageOf(error)}`);
        }
      }
      if (attempt >= PARSE_ATTEMPTS) return this.setAside(host, stat, why);
      await sleep(PARSE_RETRY_MS);
      stat = statSync(host.path, { bigint: true, throwIfNoEntry: false }) ?? stat;
    }
  }

  private merge(host: DiskHost, known: Known, theirs: NotebookContent, bytes: Buffer, stat: BigIntStats): { target: string; needsWrite: boolean } {
    const revision = revisionOf(theirs.metadata);
    const base = this.baseFor(revision, known);
    // Their file as it is, before the merge reuses its objects: the base of their editor's next save.
    const theirShell = JSON.stringify({ ...theirs, cells: [] });
    const result = mergeNotebook({
      base: { cells: base.cells, metadata: (JSON.parse(base.shell) as NotebookContent).metadata ?? {} },
      ours: host.content.cells,
      oursMetadata: host.content.metadata,
      theirs,
      textOf: (cell) => host.textOf(cell),
      isRunning: isRunningMarked,
      freshId: (taken) => host.freshCellId(taken),
    });
    for (const cell of result.updates.keys()) host.changed(cell);
    applyMerge(host.content.cells, host.content.metadata, result);
    this.notes.push(...mergeNotes(host.path, result.events, host.content.cells));
    const against = base === known ? 'the last version' : `revision ${base.revision ?? '?'}`;
    log.info(`${host.path} changed on disk: merged against ${against} (${result.events.map((event) => event.kind).join(', ') || 'no cell changes'})`);
    // The file as it is now is the base (also kept under its revision, for its editor's next save);
    // if the session adds nothing to it there is nothing to write.
    this.known = { path: host.path, stat, shell: theirShell, cells: result.theirCells, hash: sha256(bytes), revision };
    this.remember(revision, this.known);
    return { target: host.path, needsWrite: result.oursContributed };
  }

  /**
   * The common ancestor of their file: the state it says it came from (its revision), else the
   * last state jlab-mcp knows (no stamp, or one that is not ours).
   */
  private baseFor(revision: number | undefined, known: Known): { shell: string; cells: MergeBase['cells']; revision?: number } {
    if (revision === undefined || revision === known.revision) return known;
    return this.history.select(revision) ?? known;
  }

  private remember(revision: number | undefined, base: { shell: string; cells: MergeBase['cells'] }): void {
    if (revision === undefined) return;
    this.revision = Math.max(this.revision, revision);
    this.history.add({ revision, shell: base.shell, cells: base.cells } satisfies StampedBase);
  }

  /** The file does not parse even after a few tries: it is left alone and the session's version is written beside it. */
  private setAside(host: DiskHost, stat: BigIntStats, why: string): { target: string; needsWrite: boolean } {
    // Kept while the file stays broken; a new one never takes the name of a file that is there (someone's, an older session's).
    const aside = this.broken?.aside ?? freeAsidePath(host.path);
    if (!this.broken) this.notes.push(brokenFileNote(host.path, aside, why));
    log.warn(`${host.path} changed on disk and does not parse (${why}); writing the session's version to ${aside}`);
    this.broken = { stat, aside };
    return { target: aside, needsWrite: true };
  }

  private healed(host: DiskHost, outcome: { target: string; needsWrite: boolean }): { target: string; needsWrite: boolean } {
    if (this.broken) this.notes.push(repairedFileNote(host.path, this.broken.aside));
    this.broken = undefined;
    return outcome;
  }

  private hashOf(known: Known): string {
    known.hash ??= sha256(
      Buffer.from(
        this.codec.render(
          JSON.parse(known.shell) as Record<string, unknown>,
          known.cells.map((cell) => cell.text),
        ),
        'utf8',
      ),
    );
    return known.hash;
  }
}

/** The base as the session holds it now (after a read, or a merge it adds nothing to). */
function baseOf(host: DiskHost): { shell: string; cells: MergeBase['cells'] } {
  return { shell: JSON.stringify({ ...host.content, cells: [] }), cells: host.content.cells.map((cell) => ({ id: cell.id, text: host.textOf(cell) })) };
}

/** Where the session's version goes while the notebook file does not parse: `name.jlab-mcp-unmerged.ipynb` next to it. */
export function asidePath(notebook: string): string {
  return path.join(path.dirname(notebook), `${path.basename(notebook, '.ipynb')}.jlab-mcp-unmerged.ipynb`);
}

/** asidePath, or `name.jlab-mcp-unmerged-2.ipynb` and on while a file (or link) of that name exists. */
function freeAsidePath(notebook: string): string {
  const first = asidePath(notebook);
  let aside = first;
  for (let n = 2; lstatSync(aside, { throwIfNoEntry: false }); n++) aside = first.replace(/\.ipynb$/, `-${n}.ipynb`);
  return aside;
}

/** A cell whose run has not ended: it carries the running mark (runningMark.ts) from its start to its end. */
function isRunningMarked(cell: Cell): boolean {
  return (cell.metadata[RUNNING_MARK_KEY] as { status?: unknown } | undefined)?.status === 'running';
}

function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Whole-second mtimes (a coarse filesystem) cannot tell two writes within one second apart. */
function recentCoarse(stat: BigIntStats): boolean {
  return stat.mtimeNs % 1_000_000_000n === 0n && Date.now() - Number(stat.mtimeMs) < COARSE_MTIME_WINDOW_MS;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
