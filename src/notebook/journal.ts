import { closeSync, openSync, readFileSync, unlinkSync, writeSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { scheduleFsync } from './atomicWrite.js';
import { notebookText } from './notebookChunks.js';

/** The notebook file a journal continues: it applies only while the file is exactly that one. */
interface FileIdentity {
  ino: string;
  size: string;
  mtimeNs: string;
}

/** One save: the notebook's text around its cells, the cells' order, and the cells whose text changed. */
export interface JournalRecord {
  head: string;
  tail: string;
  order: string[];
  cells: Record<string, string>;
}

/** A save as the notebook hands it to `append`: its cells themselves (their ids give the order), not a list of ids made for each save. */
export type JournalSave = Omit<JournalRecord, 'order'> & { order: readonly { readonly id: string }[] };

/**
 * A record as a line of the file: head, tail and order are left out when the record before had
 * the same, and an order that only adds cells at the end (a new cell) is said as `appended`.
 */
type StoredRecord = Partial<JournalRecord> & Pick<JournalRecord, 'cells'> & { appended?: string[] };

/** Beside the notebook, hidden: `.name.ipynb.jlab-mcp-journal`. */
export function journalPath(notebook: string): string {
  return path.join(path.dirname(notebook), `.${path.basename(notebook)}.jlab-mcp-journal`);
}

/**
 * The saves since the notebook file was last written in full, one JSON line each, appended
 * before the reply (a write to the page cache, which outlives a crash of jlab-mcp). The first
 * line names the file it continues; `replayJournal` rebuilds the notebook from that file's cells
 * and the records. A full write of the notebook ends the journal (`discard`).
 */
export class NotebookJournal {
  private fd?: number;
  /** What the last record of this file held (a record leaves out what did not change since). */
  private last?: { head: string; tail: string; order: string[] };
  /** Records were appended since the notebook file was last written in full. */
  holdsSaves = false;

  constructor(readonly notebook: string) {}

  /** Appends one save; the first one of a journal starts the file with the identity of the notebook file it continues. */
  append(save: JournalSave, base: BigIntStats): void {
    let prefix = '';
    if (this.fd === undefined) {
      this.fd = openSync(journalPath(this.notebook), 'w', 0o600);
      this.last = undefined;
      prefix = `${JSON.stringify(identityOf(base))}\n`;
    }
    const stored: StoredRecord = { cells: save.cells };
    if (save.head !== this.last?.head) stored.head = save.head;
    if (save.tail !== this.last?.tail) stored.tail = save.tail;
    const before = this.last?.order;
    let order: string[];
    if (before !== undefined && keepsOrder(before, save.order)) {
      // The usual save (one new cell at the end, or none): compared id by id, no list of ids built.
      order = before;
      if (save.order.length > before.length) stored.appended = save.order.slice(before.length).map((cell) => cell.id);
    } else {
      order = save.order.map((cell) => cell.id);
      stored.order = order;
    }
    const bytes = Buffer.from(`${prefix}${JSON.stringify(stored)}\n`, 'utf8');
    this.holdsSaves = true;
    // The order as this record leaves it, before the write: a failed write closes the journal anyway.
    if (stored.appended) order.push(...stored.appended);
    this.last = { head: save.head, tail: save.tail, order };
    for (let offset = 0; offset < bytes.length; ) {
      const written = writeSync(this.fd, bytes, offset);
      if (written <= 0) throw Object.assign(new Error(`write to ${journalPath(this.notebook)} wrote 0 bytes`), { code: 'EIO' });
      offset += written;
    }
    // Durable against a power cut as soon as the file it stands in for would be.
    scheduleFsync(journalPath(this.notebook));
  }

  /** Appends no more; the file stays until `discard` (its records are still the only copy of some saves). */
  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // closing a file we only appended to; nothing is lost
    }
    this.fd = undefined;
  }

  /** After a full write of the notebook: the journal is no longer needed. */
  discard(): void {
    this.close();
    this.holdsSaves = false;
    try {
      unlinkSync(journalPath(this.notebook));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`could not remove ${journalPath(this.notebook)}: ${messageOf(error)}`);
    }
  }
}

/**
 * The notebook's text with a journal left by a session that ended without its final write (a
 * crash, a kill) applied; undefined when there is none, or when it continues another version
 * of the file than `stat` (someone saved the notebook since: it is left alone, and logged).
 * `cellTexts` gives each cell's serialized text, by id, from the file as read.
 */
export function replayJournal(notebook: string, stat: BigIntStats | undefined, cellTexts: () => Map<string, string>): string | undefined {
  let text: string;
  try {
    text = readFileSync(journalPath(notebook), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const identity = parseLine<FileIdentity>(lines[0]);
  if (!stat || !identity || JSON.stringify(identity) !== JSON.stringify(identityOf(stat))) {
    log.warn(`${journalPath(notebook)} continues another version of ${notebook} than the one on disk; it is not applied`);
    return undefined;
  }
  const texts = cellTexts();
  let last: JournalRecord | undefined;
  // A crash while a record was appended leaves a partial last line: the records before it stand.
  for (const line of lines.slice(1)) {
    const record = parseLine<StoredRecord>(line);
    if (!record) break;
    for (const [id, cell] of Object.entries(record.cells)) texts.set(id, cell);
    const head = record.head ?? last?.head;
    const tail = record.tail ?? last?.tail;
    const order = record.order ?? (record.appended && last ? [...last.order, ...record.appended] : last?.order);
    if (head === undefined || tail === undefined || order === undefined) break;
    last = { head, tail, order, cells: record.cells };
  }
  if (!last) return undefined;
  const cells = last.order.map((id) => texts.get(id));
  if (cells.some((cell) => cell === undefined)) {
    log.warn(`${journalPath(notebook)} names a cell it does not hold; it is not applied`);
    return undefined;
  }
  log.info(`${notebook}: applied ${journalPath(notebook)} (saves since its last full write)`);
  return notebookText(last.head, last.tail, cells as string[]);
}

function identityOf(stat: BigIntStats): FileIdentity {
  return { ino: String(stat.ino), size: String(stat.size), mtimeNs: String(stat.mtimeNs) };
}

function parseLine<T>(line: string | undefined): T | undefined {
  if (!line) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/** Whether `cells` starts with exactly the ids of `before`: cells were at most added at the end. */
function keepsOrder(before: readonly string[], cells: readonly { readonly id: string }[]): boolean {
  if (cells.length < before.length) return false;
  for (let i = 0; i < before.length; i++) if (cells[i]!.id !== before[i]) return false;
  return true;
}
