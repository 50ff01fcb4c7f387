import { randomBytes, randomUUID } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { JlabError, messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { quoteWord } from '../util/shell.js';
import { describeWriteError, remedyForWriteError, stillHolds, writeFileAtomic } from './atomicWrite.js';
import { DiskSync, type PendingBase } from './externalChanges.js';
import { NotebookJournal, replayJournal } from './journal.js';
import { capitalize, positionOfId, refLabel, type CellRef, type InsertRef } from './cellRef.js';
import { notebookChunks, notebookShell, notebookText } from './notebookChunks.js';
import type { Cell, CodeCell, KernelSpecInfo, MarkdownCell, NotebookContent, Output } from './types.js';

const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;
/**
 * How long saves must pause before the journal is folded into a full write of the file (an
 * agent's turn is seconds; a tight loop of cells is not). The journal, not the full write, is
 * what a reply waits for: a full write costs an open, a rename over the old file (ext4 then
 * starts writeback of the new file's blocks) and ~1 ms per MB, and it would make every cell
 * cost O(notebook size).
 */
const IDLE_FULL_SAVE_MS = 200;
/**
 * From this size on, the fold waits for the save interval instead: a full write then costs tens
 * of ms of disk and CPU, and a session drawing a figure every few hundred ms would rewrite a
 * large file after every figure, slowing every other session on the machine.
 */
const EAGER_FOLD_MAX_BYTES = 4 * 1024 * 1024;
/** Reads of a notebook that a session rewrites meanwhile, before the last one is taken as it is. */
const LOAD_ATTEMPTS = 5;

/**
 * One notebook file and its in-memory model. The session that owns it is its only writer;
 * every change is followed by `save()`, which writes the whole file atomically. Saves are
 * chained so a slow write can never land after a newer one.
 */
export class NotebookDocument {
  private saving: Promise<void> = Promise.resolve();
  /** A save scheduled for `due`; `latest` bounds how far saves that keep coming may push it back. */
  private pendingSave?: { timer: NodeJS.Timeout; due: number; latest?: number };
  /** Last known position of each cell, checked on use (a replay of 20,000 cells asks for each one's). */
  private readonly positions = new WeakMap<Cell, number>();
  /** Each cell's serialized text, dropped by `changed()`: a save re-serializes only what changed. */
  private readonly cellText = new WeakMap<Cell, string>();
  /** The same text as UTF-8, so that a save writes unchanged cells without encoding them again. */
  private readonly cellBytes = new WeakMap<Cell, Buffer>();
  /** The bytes of each cell as the file or the journal holds them: a cell whose bytes differ goes into the next journal record. */
  private readonly persisted = new WeakMap<Cell, Buffer>();
  /**
   * The cells that may differ from `persisted` (changed or inserted since): a journal record
   * looks at these, not at every cell, so a save costs what changed, not the notebook's length.
   */
  private readonly unsaved = new Set<Cell>();
  /** The file as the last full write left it (its stat and size): the journal continues exactly that file. */
  private lastFullWrite?: { stat: BigIntStats; bytes: number };
  /** Of the notebook at `path` (a continued notebook gets a new path before its first save). */
  private journal?: NotebookJournal;
  /** Edits someone else makes to the file meanwhile: detected before each write and merged in. */
  private readonly disk = new DiskSync({
    parse: parseNotebookText,
    render: (shell, texts) => serializeNotebook({ ...shell, cells: texts } as unknown as NotebookContent, (text) => text as unknown as string),
  });

  /**
   * Saves go to the journal when the file is as the last full write left it (a session's
   * notebook, whose replies wait on its saves); false: every save writes the file in full.
   */
  journaled = false;

  /** The longest the file a person opens lags a reply while the journal is in use, in ms (JLAB_MCP_SAVE_INTERVAL; default 3 s). */
  fullSaveIntervalMs = 3000;

  private constructor(
    public path: string,
    readonly content: NotebookContent,
  ) {}

  static create(path: string, kernelspec?: KernelSpecInfo, languageInfo?: Record<string, unknown>): NotebookDocument {
    const metadata: NotebookContent['metadata'] = {};
    if (kernelspec) metadata.kernelspec = kernelspec;
    if (languageInfo) metadata.language_info = languageInfo;
    return new NotebookDocument(path, { nbformat: 4, nbformat_minor: 5, metadata, cells: [] });
  }

  /**
   * Reads and loosely validates a notebook; unknown fields (cell types' extras, unknown output
   * types, attachments) are kept and written back. Notebooks before 4.5 get cell ids and become
   * 4.5. Anything that is not an nbformat 4 notebook, or a field of the wrong type, is a
   * NOTEBOOK_INVALID error naming the problem rather than a value quietly dropped.
   */
  static async load(path: string): Promise<NotebookDocument> {
    for (let attempt = 1; ; attempt++) {
      // stat before the read: a change in between then shows as a changed file at the next save
      const before = statOrUndefined(path);
      const text = await readNotebookText(path);
      const document = new NotebookDocument(path, parseNotebookText(text, path));
      document.disk.loaded(document, Buffer.from(text, 'utf8'), before);
      // Saves not yet in the file are in its journal: a live session's last few, or those of one that crashed.
      // Applied after the file became the merge base: against an edit of the file they count as ours.
      const journaled = replayJournal(path, before, () => new Map(document.cells.map((cell) => [cell.id, serializeCell(cell)])));
      // A full write while we read (it ends the journal) leaves file and journal out of step: read both again.
      if (attempt < LOAD_ATTEMPTS && !sameVersion(before, statOrUndefined(path))) continue;
      if (journaled !== undefined) document.adopt(parseNotebookText(journaled, path));
      return document;
    }
  }

  /** Takes on a newer version of the notebook (from a journal), as unsaved changes. */
  private adopt(newer: NotebookContent): void {
    const fields = this.content as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) if (!(key in newer)) delete fields[key];
    Object.assign(this.content, newer);
  }

  get cells(): Cell[] {
    return this.content.cells;
  }

  /** Turns a possibly negative index into a position, or explains the valid range. */
  resolveIndex(index: number): number {
    const count = this.cells.length;
    const resolved = index < 0 ? count + index : index;
    if (!Number.isInteger(index) || resolved < 0 || resolved >= count) {
      throw new JlabError('CELL_INDEX_OUT_OF_RANGE', `Cell index ${index} is out of range: the notebook has ${count} cell(s).`, {
        hint: count === 0 ? 'The notebook is empty; use execute_code to add a cell.' : `Use 0..${count - 1}, or -1 for the last cell.`,
      });
    }
    return resolved;
  }

  /** Position for inserting: undefined appends; negative counts from the end (-1 = before the last). */
  resolveInsertIndex(index: number | undefined): number {
    const count = this.cells.length;
    if (index === undefined) return count;
    const resolved = index < 0 ? count + index : index;
    if (!Number.isInteger(index) || resolved < 0 || resolved > count) {
      throw new JlabError('CELL_INDEX_OUT_OF_RANGE', `Insert position ${index} is out of range: the notebook has ${count} cell(s).`, {
        hint: `Use 0..${count} (${count} appends), or omit cell_index to append.`,
      });
    }
    return resolved;
  }

  /** The position of a cell named by index (negative from the end) or by id (CELL_NOT_FOUND lists ids alike). */
  resolveCell(ref: CellRef): number {
    return ref.id !== undefined ? positionOfId(this.cells, ref.id) : this.resolveIndex(ref.index);
  }

  /** Position for a new cell: at an index, right before or after the cell with an id; `{}` appends. */
  resolveInsert(where: InsertRef): number {
    if (where.beforeId !== undefined) return positionOfId(this.cells, where.beforeId);
    if (where.afterId !== undefined) return positionOfId(this.cells, where.afterId) + 1;
    return this.resolveInsertIndex(where.index);
  }

  codeCellAt(at: number | CellRef): CodeCell {
    const ref = typeof at === 'number' ? { index: at } : at;
    const cell = this.cells[this.resolveCell(ref)]!;
    if (cell.cell_type !== 'code') {
      throw new JlabError('NOT_A_CODE_CELL', `${capitalize(refLabel(ref))} is a ${cell.cell_type} cell, not a code cell.`, {
        hint: 'Use edit_markdown for markdown cells.',
      });
    }
    return cell;
  }

  markdownCellAt(at: number | CellRef): MarkdownCell {
    const ref = typeof at === 'number' ? { index: at } : at;
    const cell = this.cells[this.resolveCell(ref)]!;
    if (cell.cell_type !== 'markdown') {
      throw new JlabError('NOT_A_MARKDOWN_CELL', `${capitalize(refLabel(ref))} is a ${cell.cell_type} cell, not a markdown cell.`, {
        hint: 'Use edit_cell for code cells.',
      });
    }
    return cell;
  }

  newCodeCell(source: string): CodeCell {
    return { cell_type: 'code', id: this.freshCellId(), metadata: {}, source, outputs: [], execution_count: null };
  }

  newMarkdownCell(source: string): MarkdownCell {
    return { cell_type: 'markdown', id: this.freshCellId(), metadata: {}, source };
  }

  insert(cell: Cell, position: number): number {
    this.cells.splice(position, 0, cell);
    this.positions.set(cell, position);
    this.unsaved.add(cell);
    return position;
  }

  remove(position: number): Cell {
    return this.cells.splice(position, 1)[0]!;
  }

  /** Moves the cell at `from` to `to` (its position after the move); the cell object, and so its id and any run holding it, stay the same. */
  move(from: number, to: number): Cell {
    const cell = this.remove(from);
    this.cells.splice(to, 0, cell);
    return cell;
  }

  /** The cell's position, or -1. O(1) while no cell was inserted or removed before it since the last lookup. */
  indexOf(cell: Cell): number {
    const known = this.positions.get(cell);
    if (known !== undefined && this.cells[known] === cell) return known;
    // Positions moved (an insert or delete) or the cell is new or gone: one scan refreshes them all.
    for (const [position, each] of this.cells.entries()) this.positions.set(each, position);
    const position = this.positions.get(cell);
    return position !== undefined && this.cells[position] === cell ? position : -1;
  }

  setKernelInfo(kernelspec: KernelSpecInfo, languageInfo?: Record<string, unknown>): void {
    this.content.metadata.kernelspec = kernelspec;
    if (languageInfo) this.content.metadata.language_info = languageInfo;
  }

  /** Tells the document a cell's source, outputs or count changed (its cached text is stale). */
  changed(cell: Cell): void {
    this.cellText.delete(cell);
    this.cellBytes.delete(cell);
    this.unsaved.add(cell);
  }

  /** The file's text: Jupyter's layout, built from cached per-cell text where cells did not change. */
  serialize(base?: PendingBase): string {
    return serializeNotebook(this.content, (cell) => {
      const text = this.textOf(cell);
      base?.cells.push({ id: cell.id, text });
      return text;
    });
  }

  /** The file's bytes as chunks (the same bytes as `serialize`): unchanged cells are cached buffers, not re-encoded. */
  serializeChunks(base?: PendingBase, written?: Array<[Cell, Buffer]>): Buffer[] {
    return notebookChunks(this.content, (cell) => {
      base?.cells.push({ id: cell.id, text: this.textOf(cell) });
      const bytes = this.bytesOf(cell);
      written?.push([cell, bytes]);
      return bytes;
    });
  }

  /** One cell's serialized text as UTF-8, from the cache unless it changed. */
  private bytesOf(cell: Cell): Buffer {
    let bytes = this.cellBytes.get(cell);
    if (bytes === undefined) {
      bytes = Buffer.from(this.textOf(cell), 'utf8');
      this.cellBytes.set(cell, bytes);
    }
    return bytes;
  }

  /** One cell's serialized text, from the cache unless it changed. */
  textOf(cell: Cell): string {
    let text = this.cellText.get(cell);
    if (text === undefined) {
      text = serializeCell(cell);
      this.cellText.set(cell, text);
    }
    return text;
  }

  /** Notes for the agent about edits someone else made to the file (merged, conflicts), once each. */
  takeDiskNotes(): string[] {
    return this.disk.takeNotes();
  }

  /**
   * Merges what someone else changed in the file into the session's notebook now (read_notebook),
   * after any save in flight; writes only when the session holds something the file lacks.
   */
  refresh(): Promise<void> {
    return this.save({ onlyIfNeeded: true });
  }

  /**
   * Saves within `delayMs` unless a save is already due sooner; a `save()` meanwhile covers it.
   * For output that streams in (a running cell) and for replays: one write per interval, not
   * one per message or per cell. A failure is logged; the next save tries again.
   */
  scheduleSave(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.pendingSave && this.pendingSave.due <= due) return;
    if (this.pendingSave) clearTimeout(this.pendingSave.timer);
    const timer = setTimeout(() => {
      this.pendingSave = undefined;
      this.save({ full: true }).catch((error: unknown) => log.warn(`scheduled save: ${messageOf(error)}`));
    }, delayMs);
    timer.unref();
    this.pendingSave = { timer, due };
  }

  /** Writes the file in full now if a save is pending or journaled (shutdown, end of a replay); else waits for saves in flight. */
  async flush(): Promise<void> {
    if (this.pendingSave || this.journal?.holdsSaves) await this.save({ full: true });
    else await this.saving;
  }

  /**
   * After any save in flight: merges edits someone else made to the file meanwhile (a changed
   * file on disk), serializes and writes atomically.
   */
  save(options: { onlyIfNeeded?: boolean; full?: boolean } = {}): Promise<void> {
    const target = this.path;
    const next = this.saving.then(() => this.writeMerged(options.onlyIfNeeded ?? false, options.full ?? false));
    this.saving = next.catch(() => {});
    return next.catch((error: unknown) => {
      throw new JlabError(
        'NOTEBOOK_WRITE_FAILED',
        `Could not write ${target}: ${describeWriteError(error)}; the previous version of the file (if any) is intact.`,
        {
          hint: `${remedyForWriteError(error)}; the session keeps every cell (a cell's outputs are still returned), and the next save that succeeds writes them all.`,
          context: { path: target, errno: (error as NodeJS.ErrnoException).code },
          cause: error,
        },
      );
    });
  }

  private async writeMerged(onlyIfNeeded: boolean, full: boolean): Promise<void> {
    const { target, needsWrite } = await this.disk.reconcile(this);
    // A refresh writes only what the file lacks, and never the aside file (read_notebook reads).
    if (onlyIfNeeded && (!needsWrite || target !== this.path)) return;
    if (!full && !onlyIfNeeded && target === this.path && this.appendToJournal()) return;
    this.cancelPendingSave();
    const base = this.disk.startSnapshot(this.content);
    const written: Array<[Cell, Buffer]> = [];
    // Our file, unless someone wrote over it since the rename: then the next save sees their change.
    const stat = stillHolds(target, await writeFileAtomic(target, this.serializeChunks(base, written)));
    this.disk.written(this, target, base, stat);
    if (target !== this.path) return;
    for (const [cell, bytes] of written) this.persisted.set(cell, bytes);
    // Still unsaved: what was added or changed while the file was written (and not removed since).
    for (const cell of this.unsaved) if (this.indexOf(cell) < 0 || this.isPersisted(cell)) this.unsaved.delete(cell);
    this.lastFullWrite = { stat, bytes: Number(stat.size) };
    // Also a journal this document did not write: one a crashed session left, applied at the open.
    this.journalOfPath().discard();
  }

  /**
   * A save of a notebook whose file is as the last full write left it: the cells that changed
   * since, appended to the journal, and a full write once saves pause (`IDLE_FULL_SAVE_MS`),
   * within `fullSaveIntervalMs` at the latest. False when the file must be written in full now
   * (new, or changed by someone).
   */
  private appendToJournal(): boolean {
    const last = this.lastFullWrite;
    if (!this.journaled || !last) return false;
    if (!sameVersion(statOrUndefined(this.path), last.stat)) return false;
    const [head, tail] = notebookShell(this.content);
    const cells: Record<string, string> = {};
    const appended: Array<[Cell, Buffer]> = [];
    for (const cell of this.unsaved) {
      const bytes = this.indexOf(cell) < 0 ? undefined : this.bytesOf(cell);
      // Removed since (the record's order leaves it out), or back to what is saved: nothing to write.
      if (bytes === undefined || this.persisted.get(cell) === bytes) {
        this.unsaved.delete(cell);
        continue;
      }
      cells[cell.id] = this.textOf(cell);
      appended.push([cell, bytes]);
    }
    const journal = this.journalOfPath();
    try {
      journal.append({ head, tail, order: this.cells, cells }, last.stat);
    } catch (error) {
      // A partial record hides every later one (the earlier ones stand): no more records; the next save writes the file in full.
      journal.close();
      this.lastFullWrite = undefined;
      throw error;
    }
    for (const [cell, bytes] of appended) {
      this.persisted.set(cell, bytes);
      this.unsaved.delete(cell);
    }
    this.scheduleIdleSave();
    return true;
  }

  /**
   * The full write after a journaled save: once saves pause for `IDLE_FULL_SAVE_MS`, and never
   * later than `fullSaveIntervalMs` after the first save it covers (a tight loop of cells); a
   * notebook past `EAGER_FOLD_MAX_BYTES` waits for the interval.
   */
  private scheduleIdleSave(): void {
    const now = Date.now();
    const latest = this.pendingSave?.latest ?? this.pendingSave?.due ?? now + this.fullSaveIntervalMs;
    const idle = (this.lastFullWrite?.bytes ?? 0) < EAGER_FOLD_MAX_BYTES ? IDLE_FULL_SAVE_MS : this.fullSaveIntervalMs;
    const due = Math.min(now + idle, latest);
    if (this.pendingSave) clearTimeout(this.pendingSave.timer);
    const timer = setTimeout(() => {
      this.pendingSave = undefined;
      this.save({ full: true }).catch((error: unknown) => log.warn(`journal fold: ${messageOf(error)}`));
    }, due - now);
    timer.unref();
    this.pendingSave = { timer, due, latest };
  }

  /** The cell's bytes, as cached now, are what the file or the journal holds (false for a cell never written). */
  private isPersisted(cell: Cell): boolean {
    const bytes = this.cellBytes.get(cell);
    return bytes !== undefined && bytes === this.persisted.get(cell);
  }

  private journalOfPath(): NotebookJournal {
    if (this.journal?.notebook !== this.path) {
      this.journal?.close();
      this.journal = new NotebookJournal(this.path);
    }
    return this.journal;
  }

  private cancelPendingSave(): void {
    if (!this.pendingSave) return;
    clearTimeout(this.pendingSave.timer);
    this.pendingSave = undefined;
  }

  /** A new cell id, not used by any cell (nor in `taken`). */
  freshCellId(taken?: ReadonlySet<string>): string {
    // 32 random bits (the first 8 hex digits of a v4 UUID: randomUUID draws from a cached pool,
    // randomBytes calls OpenSSL each time); a clash is rare, so checking it is a plain scan.
    for (;;) {
      const id = randomUUID().slice(0, 8);
      if (!taken?.has(id) && !this.cells.some((cell) => cell.id === id)) return id;
    }
  }
}

/** Jupyter's own layout: one-space indent, multi-line strings as line arrays, trailing newline. */
export function serializeNotebook(content: NotebookContent, cellText: (cell: Cell) => string = serializeCell): string {
  // The cells are spliced in as text, so that unchanged cells need not be stringified again.
  const [head, tail] = notebookShell(content);
  return notebookText(head, tail, content.cells.map(cellText));
}

/** One cell as JSON.stringify(…, null, 1) writes it inside the notebook's cells array (depth 2). */
export function serializeCell(cell: Cell): string {
  return indent(JSON.stringify({ ...cell, source: splitLines(cell.source) }, null, 1), '  ');
}

function indent(text: string, prefix: string): string {
  return prefix + text.replace(/\n/g, `\n${prefix}`);
}

export function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

/** A cell's source as one string; `undefined` when it is neither a string nor a list of strings. */
function joinSource(source: unknown): string | undefined {
  if (source === undefined) return '';
  if (typeof source === 'string') return source;
  if (Array.isArray(source) && source.every((line) => typeof line === 'string')) return source.join('');
  return undefined;
}

/** The refusal of a file that is not a usable notebook; the hint says what would be. */
function notANotebook(path: string, why: string, hint = 'Pass a Jupyter notebook (.ipynb, nbformat 4) inside the notebook directory.'): JlabError {
  return new JlabError('NOTEBOOK_INVALID', `Cannot use ${path} as a notebook: ${why}.`, { hint });
}

/** The file as text: UTF-8 with any BOM dropped. Bytes that are not UTF-8 are refused, not replaced. */
async function readNotebookText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw notANotebook(path, `it cannot be read (${messageOf(error)})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw notANotebook(path, code === 'ERR_ENCODING_INVALID_ENCODED_DATA' ? 'it is not UTF-8 text' : `it cannot be decoded (${messageOf(error)})`);
  }
}

/** A notebook file's text, parsed and normalized as `load` does (NOTEBOOK_INVALID when it is not one). */
export function parseNotebookText(text: string, path: string): NotebookContent {
  return normalizeNotebook(parseNotebookJson(text, path), path);
}

/** The same file, unchanged (what a journal's first line records). */
function sameVersion(a: BigIntStats | undefined, b: BigIntStats | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

function statOrUndefined(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function parseNotebookJson(text: string, path: string): unknown {
  if (text.trim() === '') throw notANotebook(path, 'the file is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw notANotebook(path, `it is not JSON (${messageOf(error)})`);
  }
}

/** Checks the notebook's own fields; the cells are checked by normalizeCell. */
function checkNotebookShape(raw: unknown, path: string): Record<string, unknown> {
  if (Array.isArray(raw)) throw notANotebook(path, 'it is a JSON array, not a notebook object');
  if (typeof raw !== 'object' || raw === null) throw notANotebook(path, `it is a JSON ${raw === null ? 'null' : typeof raw}, not a notebook object`);
  const nb = raw as Record<string, unknown>;
  if (nb.nbformat === undefined) {
    throw notANotebook(path, Array.isArray(nb.cells) ? 'it has no nbformat field' : 'it is a JSON object without nbformat and cells, not a Jupyter notebook');
  }
  if (typeof nb.nbformat === 'number' && nb.nbformat < 4) {
    const converted = `${path.replace(/\.[^./]*$/, '')}.nbconvert.ipynb`;
    throw notANotebook(
      path,
      `it is an nbformat ${nb.nbformat} notebook, and only nbformat 4 is supported`,
      `Convert it first: jupyter nbconvert --to notebook --nbformat 4 ${quoteWord(path)} (writes ${quoteWord(converted)} next to it), then pass that file.`,
    );
  }
  if (typeof nb.nbformat === 'number' && nb.nbformat > 4) {
    throw notANotebook(
      path,
      `it is an nbformat ${nb.nbformat} notebook, newer than the nbformat 4 this server writes`,
      'Save it as nbformat 4 (jupyter nbconvert --to notebook --nbformat 4), then pass that file.',
    );
  }
  if (nb.nbformat !== 4) throw notANotebook(path, `its nbformat is ${JSON.stringify(nb.nbformat)}, not the number 4`);
  if (!Array.isArray(nb.cells)) throw notANotebook(path, nb.cells === undefined ? 'it has no cells list' : 'its cells field is not a list');
  if (nb.metadata !== undefined && !isPlainObject(nb.metadata)) throw notANotebook(path, 'its metadata is not an object');
  return nb;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function normalizeNotebook(raw: unknown, path: string): NotebookContent {
  const nb = checkNotebookShape(raw, path);
  const seen = new Set<string>();
  const cells = (nb.cells as unknown[]).map((value, i) => normalizeCell(value, i, seen, path));
  const minor = typeof nb.nbformat_minor === 'number' && Number.isInteger(nb.nbformat_minor) ? nb.nbformat_minor : 0;
  const metadata = (nb.metadata ?? {}) as NotebookContent['metadata'];
  // Cell ids arrived in 4.5; a notebook we gave ids to is a 4.5 notebook now.
  return { ...nb, nbformat: 4, nbformat_minor: Math.max(minor, 5), metadata, cells } as NotebookContent;
}

/**
 * One cell in memory: source joined, a unique valid id (kept when it has one), every other field
 * kept as it is (attachments, unknown output types, extra metadata). A field of the wrong type
 * is refused rather than dropped, so that a save never loses what the file held.
 */
function normalizeCell(value: unknown, i: number, seen: Set<string>, path: string): Cell {
  const bad = (why: string) => notANotebook(path, `cell ${i} ${why}`);
  if (!isPlainObject(value)) throw bad('is not an object');
  const cell = { ...value };
  const type = cell.cell_type;
  if (type !== 'code' && type !== 'markdown' && type !== 'raw') throw bad(`has cell_type ${JSON.stringify(type)} (expected code, markdown or raw)`);
  const source = joinSource(cell.source);
  if (source === undefined) throw bad('has a source that is neither a string nor a list of strings');
  if (cell.metadata !== undefined && !isPlainObject(cell.metadata)) throw bad('has metadata that is not an object');
  let id = typeof cell.id === 'string' && CELL_ID.test(cell.id) && !seen.has(cell.id) ? cell.id : undefined;
  while (!id || seen.has(id)) id = randomBytes(4).toString('hex');
  seen.add(id);
  const base = { ...cell, id, metadata: cell.metadata ?? {}, source };
  if (type === 'code') {
    const outputs = cell.outputs ?? [];
    if (!Array.isArray(outputs)) throw bad('has outputs that are not a list');
    const wrong = outputs.findIndex((output) => !isPlainObject(output) || typeof output.output_type !== 'string');
    if (wrong >= 0) throw bad(`has output ${wrong} without an output_type`);
    return {
      ...base,
      cell_type: 'code',
      outputs: outputs as Output[],
      execution_count: typeof cell.execution_count === 'number' ? cell.execution_count : null,
    };
  }
  // The one repair: outputs and a count on a markdown or raw cell make the notebook invalid.
  delete (base as Record<string, unknown>).outputs;
  delete (base as Record<string, unknown>).execution_count;
  return { ...base, cell_type: type } as Cell;
}
