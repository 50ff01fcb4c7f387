import type { MergeBase } from './merge.js';

/**
 * The notebook metadata key (under `jlab_mcp`) that names the save a file comes from: a counter,
 * one up per write. An editor that saves a copy it opened some saves ago (JupyterLab's "File
 * Changed → Overwrite", VS Code) writes that old number back, so the merge can use the version it
 * started from as the common ancestor instead of jlab-mcp's last write.
 */
const OWN_KEY = 'jlab_mcp';
const REVISION_KEY = 'revision';

/** The revision a notebook's metadata carries; undefined when it has none (or a malformed one). */
export function revisionOf(metadata: Record<string, unknown> | undefined): number | undefined {
  const own = metadata?.[OWN_KEY];
  const value = typeof own === 'object' && own !== null ? (own as Record<string, unknown>)[REVISION_KEY] : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Sets the revision; a new `jlab_mcp` object, so that no other holder of the old one sees it change. */
export function stampRevision(metadata: Record<string, unknown>, revision: number): void {
  const own = metadata[OWN_KEY];
  metadata[OWN_KEY] = { ...(typeof own === 'object' && own !== null && !Array.isArray(own) ? own : {}), [REVISION_KEY]: revision };
}

/** A state of the file jlab-mcp knows (wrote, loaded or merged), by the revision stamped in it. */
export interface StampedBase {
  revision: number;
  /** The notebook without its cells, as JSON. */
  shell: string;
  cells: MergeBase['cells'];
}

interface Entry extends StampedBase {
  at: number;
  /** Characters only this entry holds (not shared with the next newer one): an upper bound, see add(). */
  own: number;
}

export interface HistoryLimits {
  /** Bases kept at most. */
  count: number;
  /** The newest ones are always kept; older ones are thinned out so that their ages spread out. */
  recent: number;
  /** Characters held by the bases other than the newest (which the document's text cache holds anyway). */
  chars: number;
}

const DEFAULT_LIMITS: HistoryLimits = { count: 16, recent: 4, chars: 32_000_000 };
/** What one cell entry costs besides its text, counted as characters. */
const ENTRY_OVERHEAD = 24;

/**
 * The last states of the file, so that a copy saved from an older one merges against the state
 * it came from. Bases share their cell texts with each other and with the document's cache (a
 * cell that did not change is one string everywhere), so a base costs the texts that changed
 * since plus one small entry per cell. Beyond the newest few, bases are thinned out so the kept
 * ones spread over time (a copy opened an hour ago still finds one close to it).
 */
export class BaseHistory {
  private readonly entries: Entry[] = [];

  constructor(
    private readonly limits: HistoryLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a base; one with the same revision is replaced (it is the newer state with that stamp). */
  add(base: StampedBase): void {
    const existing = this.entries.findIndex((entry) => entry.revision === base.revision);
    if (existing >= 0) this.removeAt(existing);
    const previous = this.entries.at(-1);
    // Counted once, against the base that follows it: what it shares with older ones is counted
    // by them, what it shares with this one is not counted again.
    if (previous) previous.own = ownChars(previous, base);
    this.entries.push({ ...base, at: this.now(), own: 0 });
    this.trim();
  }

  /**
   * The base for a file stamped `revision`: that revision's, or else the newest kept one before
   * it (an older ancestor only makes more changes look like both sides' — never loses one), or
   * for a revision older than all an empty base (no ancestor: the oldest kept is newer than their
   * copy, and against it the agent's cells added since would look deleted by them). Undefined for
   * a revision newer than any kept (not ours): the caller uses its latest.
   */
  select(revision: number): StampedBase | undefined {
    let before: Entry | undefined;
    let newest = -1;
    for (const entry of this.entries) {
      if (entry.revision === revision) return entry;
      if (entry.revision < revision && (!before || entry.revision > before.revision)) before = entry;
      newest = Math.max(newest, entry.revision);
    }
    if (revision > newest) return undefined;
    return before ?? { revision, shell: '{}', cells: [] };
  }

  /** The kept revisions, oldest first (for tests and the log). */
  revisions(): number[] {
    return this.entries.map((entry) => entry.revision);
  }

  private trim(): void {
    while (this.entries.length > 1) {
      const overCount = this.entries.length > this.limits.count;
      const overChars = this.retained() > this.limits.chars;
      if (!overCount && !overChars) return;
      // Too much text: the oldest goes first; too many bases: the one whose loss leaves the smallest gap for its age.
      this.removeAt(overChars ? 0 : this.thinnest());
    }
  }

  private retained(): number {
    let sum = 0;
    for (let i = 0; i < this.entries.length - 1; i++) sum += this.entries[i]!.own;
    return sum;
  }

  /** Of the bases older than the newest few, the one whose neighbours are closest together relative to its age. */
  private thinnest(): number {
    const now = this.now();
    const last = this.entries.length - 1 - this.limits.recent;
    let best = 0;
    let bestScore = Infinity;
    for (let i = 1; i <= last; i++) {
      const gap = this.entries[i + 1]!.at - this.entries[i - 1]!.at;
      const score = gap / Math.max(1, now - this.entries[i]!.at);
      if (score < bestScore) [best, bestScore] = [i, score];
    }
    return best;
  }

  private removeAt(index: number): void {
    const [gone] = this.entries.splice(index, 1);
    // What it held alone may now be held by the older neighbour alone: counted there (an upper bound).
    // (The newest's count is never used: add() counts it against the next one.)
    const older = this.entries[index - 1];
    if (older && gone) older.own += gone.own;
  }
}

/** Characters of `older` that `newer` does not share (by cell id; usually at the same position). */
function ownChars(older: StampedBase, newer: StampedBase): number {
  let own = older.shell.length;
  let byId: Map<string, string> | undefined;
  const theirs = newer.cells;
  older.cells.forEach((cell, i) => {
    const same = theirs[i];
    let text: string | undefined;
    if (same?.id === cell.id) text = same.text;
    else text = (byId ??= new Map(theirs.map((each) => [each.id, each.text]))).get(cell.id);
    own += ENTRY_OVERHEAD + (text === cell.text ? 0 : cell.text.length);
  });
  return own;
}
