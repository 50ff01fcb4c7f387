import { RUNNING_MARK_KEY } from '../sessions/runningMark.js';
import type { Cell, NotebookContent } from './types.js';

/**
 * What the file held when jlab-mcp last wrote (or read) it — the common ancestor of the
 * session's notebook and the file someone else changed since.
 */
export interface MergeBase {
  /** Each cell's id and serialized text (serializeCell), in file order. */
  cells: ReadonlyArray<{ id: string; text: string }>;
  /** The notebook's metadata as it was then. */
  metadata: Record<string, unknown>;
}

export interface MergeInput {
  base: MergeBase;
  /** The session's cells, in memory; these objects are never mutated here. */
  ours: readonly Cell[];
  oursMetadata: Record<string, unknown>;
  /** The file now, parsed and normalized (ids unique). */
  theirs: NotebookContent;
  /** The current serialized text of one of our cells (the document's cache): equal to the base text means unchanged. */
  textOf: (cell: Cell) => string;
  /** A cell the session is running now: never dropped, never changes type under its run. */
  isRunning: (cell: Cell) => boolean;
  /** A new cell id not in `taken`. */
  freshId: (taken: ReadonlySet<string>) => string;
}

/** One thing the merge did that the agent may need to know, by cell id (positions move). */
export type MergeEvent =
  | { kind: 'added' | 'deleted' | 'edited'; id: string }
  /** They deleted a cell the session had changed since, or is running: ours is kept. */
  | { kind: 'kept_deleted'; id: string; running: boolean }
  /** We deleted a cell they changed since: theirs is back. */
  | { kind: 'restored'; id: string }
  /**
   * Both changed the cell: theirs keeps the id, ours follows it under `oursId` — unless ours is
   * running (`running`): then ours keeps its id (`oursId`) and theirs goes before it under `id`.
   */
  | { kind: 'conflict'; id: string; oursId: string; running?: boolean }
  | { kind: 'moved' };

export interface MergeResult {
  /** The cells in their new order: our objects (rewritten per `updates`) and their new ones. */
  cells: Cell[];
  /** Our cells whose fields change: rewrite them in place (applyMerge), so a run that holds one still writes into it. */
  updates: Map<Cell, Cell>;
  metadata: Record<string, unknown>;
  events: MergeEvent[];
  /** False when the result is their file as it is (nothing of ours is missing from it). */
  oursContributed: boolean;
  /** Their file as a base for a later merge (their ids, each cell's text): what their editor holds now. */
  theirCells: MergeBase['cells'];
}

/** Fields whose concurrent change is a conflict (the two versions are kept side by side). */
const CONFLICTING = new Set(['source', 'cell_type', 'attachments']);

/**
 * Three-way merge of the session's notebook (ours) with the file someone changed (theirs), at
 * cell level by id, against the version their file came from (base: what jlab-mcp wrote with
 * the revision their file carries, see baseHistory.ts). Their order wins (unless only we
 * reordered: move_cell); cells they added stay where they put them, ours stay after the same
 * neighbour as in our order. A cell only
 * one side changed takes that side; one both changed is merged field by field (our outputs and
 * run metadata win, theirs elsewhere) unless both changed its source: then theirs keeps the id
 * and ours follows it with a fresh id (a running cell of ours keeps its id; theirs gets the
 * fresh one). Pure: it reads its inputs and returns a plan.
 */
export function mergeNotebook(input: MergeInput): MergeResult {
  const { ours, theirs } = input;
  const baseText = new Map(input.base.cells.map((cell) => [cell.id, cell.text]));
  const baseCell = lazyBaseCells(baseText);
  const theirById = new Map(theirs.cells.map((cell) => [cell.id, cell]));
  const ourById = new Map(ours.map((cell) => [cell.id, cell]));
  const events: MergeEvent[] = [];
  const updates = new Map<Cell, Cell>();
  const taken = new Set<string>([...ourById.keys(), ...theirById.keys()]);
  let contributed = false;
  const oursChanged = (cell: Cell) => input.textOf(cell) !== baseText.get(cell.id);
  // Our unchanged cell is the base itself: no need to parse the base text (most cells, in a big notebook).
  const baseOf = (id: string) => {
    const our = ourById.get(id);
    return our && input.textOf(our) === baseText.get(id) ? our : baseCell(id)!;
  };
  const theirsChanged = (cell: Cell) => !sameValue(canonicalCell(cell), canonicalCell(baseOf(cell.id)));

  // Their cells, in their order, each mapped to what takes its place.
  const placed: Cell[][] = [];
  const placedIds = new Set<string>();
  const theirCells: Array<{ id: string; text: string }> = [];
  for (const their of theirs.cells) {
    const our = ourById.get(their.id);
    const inBase = baseText.has(their.id);
    const theirChange = !inBase || theirsChanged(their);
    // Unchanged: the base's text (one string shared with it); else theirs, serialized (few cells).
    theirCells.push({ id: their.id, text: theirChange ? input.textOf(their) : baseText.get(their.id)! });
    if (!our) {
      if (!inBase) {
        events.push({ kind: 'added', id: their.id });
        placed.push([their]);
      } else if (theirChange) {
        events.push({ kind: 'restored', id: their.id });
        placed.push([their]);
      } else {
        contributed = true; // we deleted it; they left it alone
        continue;
      }
      placedIds.add(their.id);
      continue;
    }
    placedIds.add(their.id);
    if (!inBase) {
      // Both have a cell the base lacks: ours, saved after the state their copy came from (a
      // base older than their copy: its revision was thinned out). The same source and type is
      // the same cell — ours, with its newer outputs.
      if (our.cell_type === their.cell_type && sameValue(joinLines(our.source), joinLines(their.source))) {
        if (!sameValue(canonicalCell(our), canonicalCell(their))) contributed = true;
        placed.push([our]);
        continue;
      }
      // Else one id for two cells (or two versions): both are kept.
      const renamed = { ...their, id: input.freshId(taken) } as Cell;
      taken.add(renamed.id);
      events.push({ kind: 'added', id: renamed.id });
      placed.push([our, renamed]);
      contributed = true;
      continue;
    }
    const ourChange = oursChanged(our) || input.isRunning(our);
    if (!theirChange) {
      if (ourChange) contributed = true;
      placed.push([our]);
      continue;
    }
    if (!ourChange) {
      events.push({ kind: 'edited', id: their.id });
      if (their.cell_type === our.cell_type) {
        updates.set(our, their);
        placed.push([our]);
      } else {
        placed.push([their]);
      }
      continue;
    }
    // A type change under a cell we changed or run is a conflict: its run writes outputs into it.
    const merged = their.cell_type === our.cell_type ? mergeFields(baseCell(their.id)!, our, their) : 'conflict';
    if (merged === 'conflict') {
      const fresh = input.freshId(taken);
      taken.add(fresh);
      if (input.isRunning(our)) {
        // A run keeps its cell's id: the session registry follows the running cell by id (a restart reattaches to it).
        events.push({ kind: 'conflict', id: fresh, oursId: our.id, running: true });
        // Their copy carries the running mark the file had: it is not running, and must not look so (nor be undeletable as running).
        const { [RUNNING_MARK_KEY]: _mark, ...metadata } = their.metadata;
        placed.push([{ ...their, id: fresh, metadata } as Cell, our]);
      } else {
        updates.set(our, { ...our, id: fresh } as Cell);
        events.push({ kind: 'conflict', id: their.id, oursId: fresh });
        placed.push([their, our]);
      }
      contributed = true;
    } else {
      if (!sameValue(canonicalCell(merged), canonicalCell(their))) contributed = true;
      events.push({ kind: 'edited', id: their.id });
      updates.set(our, merged);
      placed.push([our]);
    }
  }

  // Our cells they do not have: added by us, or deleted by them. Each follows the nearest cell
  // before it (in our order) that they have too; the first ones go to the top, and those after
  // the last such cell (appended by the agent) stay at the end.
  const followers = new Map<string | undefined, Cell[]>();
  let pending: Cell[] = [];
  let anchor: string | undefined;
  for (const our of ours) {
    if (placedIds.has(our.id)) {
      if (pending.length) followers.set(anchor, pending);
      pending = [];
      anchor = our.id;
      continue;
    }
    if (baseText.has(our.id)) {
      const running = input.isRunning(our);
      if (!running && !oursChanged(our)) {
        events.push({ kind: 'deleted', id: our.id });
        continue;
      }
      events.push({ kind: 'kept_deleted', id: our.id, running });
    }
    contributed = true;
    pending.push(our);
  }

  const cells: Cell[] = [];
  // one by one: a spread of 100,000 arguments can overflow the stack
  const append = (more: readonly Cell[] | undefined) => {
    for (const cell of more ?? []) cells.push(cell);
  };
  append(followers.get(undefined));
  for (const group of placed) {
    append(group);
    // The group's anchor is the cell with the shared id: first, or last (a running cell after their copy).
    for (const cell of group) {
      append(followers.get(cell.id));
      followers.delete(cell.id);
    }
  }
  append(pending);
  const theyMoved = orderChanged(input.base.cells, theirs.cells);
  if (theyMoved) events.push({ kind: 'moved' });
  // They kept the order and we changed it (move_cell): ours wins, as for any field only one side changed.
  const ordered = !theyMoved && orderChanged(input.base.cells, ours) ? inOurOrder(cells, ours) : cells;
  if (ordered !== cells) contributed = true;
  const metadata = mergeRecords(input.base.metadata, input.oursMetadata, theirs.metadata);
  if (!sameValue(metadata, theirs.metadata)) contributed = true;
  return { cells: ordered, updates, metadata, events, oursContributed: contributed, theirCells };
}

/**
 * The merged cells with ours in our order: each cell only they have (added, restored) stays
 * right after the cell of ours it followed in the merged order (or at the top).
 */
function inOurOrder(merged: readonly Cell[], ours: readonly Cell[]): Cell[] {
  const isOurs = new Set<Cell>(ours);
  const top: Cell[] = [];
  const trailing = new Map<Cell, Cell[]>();
  let anchor: Cell | undefined;
  for (const cell of merged) {
    if (isOurs.has(cell)) {
      anchor = cell;
      trailing.set(cell, []);
    } else if (anchor) trailing.get(anchor)!.push(cell);
    else top.push(cell);
  }
  const result = top;
  for (const cell of ours) {
    const after = trailing.get(cell);
    if (!after) continue; // a cell of ours the merge dropped (they deleted it)
    result.push(cell);
    for (const each of after) result.push(each);
  }
  return result;
}

/**
 * Makes the plan real on the notebook's own array and objects: our cells are rewritten in
 * place (a running cell's run keeps writing into the same object), the array is refilled in
 * the new order, the metadata object is rewritten in place.
 */
export function applyMerge(cells: Cell[], metadata: Record<string, unknown>, result: MergeResult): void {
  for (const [target, value] of result.updates) replaceFields(target as unknown as Record<string, unknown>, value as unknown as Record<string, unknown>);
  cells.length = 0;
  // push one by one: a spread of 100,000 arguments can overflow the stack
  for (const cell of result.cells) cells.push(cell);
  replaceFields(metadata, result.metadata);
}

/** In `value`'s key order too: a cell that took their fields serializes as their cell does (the base of their next save). */
function replaceFields(target: Record<string, unknown>, value: Record<string, unknown>): void {
  if (target === value) return;
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, value);
}

/**
 * A cell both sides changed, merged field by field; 'conflict' when both changed its source
 * (or type, or attachments) differently. Our outputs, count and metadata keys win where both
 * changed them: they come from the run the agent is waiting for.
 */
function mergeFields(base: Cell, ours: Cell, theirs: Cell): Cell | 'conflict' {
  const b = base as unknown as Record<string, unknown>;
  const o = ours as unknown as Record<string, unknown>;
  const t = theirs as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(o), ...Object.keys(t)]);
  for (const key of keys) {
    if (key === 'metadata' || key === 'id') continue;
    const [bv, ov, tv] = [b[key], o[key], t[key]].map((value) => canonicalField(key, value));
    let pick: 'ours' | 'theirs';
    if (sameValue(ov, bv)) pick = 'theirs';
    else if (sameValue(tv, bv) || sameValue(ov, tv)) pick = 'ours';
    else if (CONFLICTING.has(key)) return 'conflict';
    else pick = 'ours';
    const value = pick === 'ours' ? o[key] : t[key];
    if (value !== undefined) merged[key] = value;
  }
  merged.id = ours.id;
  merged.metadata = mergeRecords(asRecord(b.metadata), asRecord(o.metadata), asRecord(t.metadata));
  return merged as unknown as Cell;
}

/** Key by key: the side that changed a key wins; both → ours (our keys are run records). */
function mergeRecords(base: Record<string, unknown>, ours: Record<string, unknown>, theirs: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    const value = sameValue(ours[key], base[key]) ? theirs[key] : ours[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** True when the cells both have in common are in another order in theirs than in the base. */
function orderChanged(base: MergeBase['cells'], theirs: readonly Cell[]): boolean {
  const inTheirs = new Set(theirs.map((cell) => cell.id));
  const baseOrder = base.map((cell) => cell.id).filter((id) => inTheirs.has(id));
  const inBase = new Set(baseOrder);
  const theirOrder = theirs.map((cell) => cell.id).filter((id) => inBase.has(id));
  return baseOrder.some((id, i) => theirOrder[i] !== id);
}

/** Base cells parsed from their text only when asked (a merge of 20,000 cells compares few of them in depth). */
function lazyBaseCells(texts: Map<string, string>): (id: string) => Cell | undefined {
  const parsed = new Map<string, Cell>();
  return (id) => {
    let cell = parsed.get(id);
    if (!cell && texts.has(id)) {
      const raw = JSON.parse(texts.get(id)!) as Record<string, unknown>;
      cell = { ...raw, source: joinLines(raw.source) } as unknown as Cell;
      parsed.set(id, cell);
    }
    return cell;
  };
}

/**
 * A cell in a form where what Jupyter writes differently but means the same compares equal:
 * keys in any order, multi-line strings as one string or a list of lines (nbformat splits
 * output text into lines on write; jlab-mcp keeps it whole), transient metadata left out.
 */
export function canonicalCell(cell: Cell): unknown {
  const { metadata, ...rest } = cell as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) fields[key] = canonicalField(key, value);
  const { trusted: _trusted, ...kept } = asRecord(metadata);
  fields.metadata = kept;
  return fields;
}

function canonicalField(key: string, value: unknown): unknown {
  if (key === 'source') return joinLines(value);
  if (key === 'outputs' && Array.isArray(value)) return value.map(canonicalOutput);
  return value;
}

function canonicalOutput(output: unknown): unknown {
  const { text, data, ...rest } = asRecord(output);
  const canonical: Record<string, unknown> = { ...rest };
  if (text !== undefined) canonical.text = joinLines(text);
  if (data !== undefined) {
    // nbformat splits every mime value but JSON ones into lines.
    canonical.data = Object.fromEntries(Object.entries(asRecord(data)).map(([mime, value]) => [mime, /json$/.test(mime) ? value : joinLines(value)]));
  }
  return canonical;
}

function joinLines(value: unknown): unknown {
  return Array.isArray(value) && value.every((line) => typeof line === 'string') ? value.join('') : value;
}

/** Deep equality of JSON values, key order ignored. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((value, i) => sameValue(value, other[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((key) => x[key] !== undefined);
  if (keys.length !== Object.keys(y).filter((key) => y[key] !== undefined).length) return false;
  return keys.every((key) => sameValue(x[key], y[key]));
}
