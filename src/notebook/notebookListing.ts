import { createReadStream } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { environmentsOf, lastRunOf, latest } from './provenance.js';

/** Bounds of one listing: a notebook directory may hold a whole project tree. */
export interface ListingLimits {
  /** Directory levels below the listed one that are walked. Default 6. */
  maxDepth: number;
  /** Notebooks described (the most recently changed first). Default 200. */
  maxNotebooks: number;
  /** Directory entries looked at in all, after which the walk stops. Default 50,000. */
  maxEntries: number;
  /** Files up to this size (bytes) are parsed whole. Default 8 MiB. */
  fullParseBytes: number;
  /** Larger files up to this size are scanned as text for cell types and run times; beyond, cells are "unknown". Default 256 MiB. */
  scanBytes: number;
}

export const DEFAULT_LISTING_LIMITS: ListingLimits = { maxDepth: 6, maxNotebooks: 200, maxEntries: 50_000, fullParseBytes: 8 << 20, scanBytes: 256 << 20 };

export interface NotebookFacts {
  cells: number | null;
  code_cells: number | null;
  last_run: string | null;
  kernel?: string;
  environments?: number;
  note?: string;
}

export interface ListedNotebook extends NotebookFacts {
  /** Relative to the notebook directory. */
  path: string;
  size_bytes: number;
  modified: string;
  /** Where last_run came from. */
  last_run_from: 'execution metadata' | 'file modified time';
}

export interface Listing {
  notebooks: ListedNotebook[];
  /** Notebooks found beyond maxNotebooks (the oldest), or walk limits hit. */
  truncated: boolean;
  found: number;
  notes: string[];
}

/**
 * Finds notebooks under `dir` (a real directory inside the real `root`), skipping hidden files
 * and directories (our spool files, checkpoints) and symlinked directories, within `limits`.
 */
export async function listNotebooks(root: string, dir: string, limits: ListingLimits = DEFAULT_LISTING_LIMITS): Promise<Listing> {
  const notes: string[] = [];
  const found: Array<{ file: string; size: number; mtimeMs: number }> = [];
  let entries = 0;
  let symlinkedDirs = 0;
  const queue: Array<{ dir: string; depth: number }> = [{ dir, depth: 0 }];
  walk: while (queue.length) {
    const next = queue.shift()!;
    const items = await readdir(next.dir, { withFileTypes: true }).catch(() => []);
    for (const item of items) {
      if (++entries > limits.maxEntries) {
        notes.push(`stopped after ${limits.maxEntries} directory entries; pass a subdirectory as path to look deeper`);
        break walk;
      }
      if (item.name.startsWith('.')) continue;
      const full = path.join(next.dir, item.name);
      if (item.isDirectory()) {
        if (next.depth < limits.maxDepth) queue.push({ dir: full, depth: next.depth + 1 });
        else if (!notes.some((n) => n.startsWith('directories deeper')))
          notes.push(`directories deeper than ${limits.maxDepth} levels are not listed; pass one as path`);
        continue;
      }
      if (!item.name.endsWith('.ipynb')) continue;
      if (item.isSymbolicLink()) {
        // Only a link to a file inside the notebook directory counts.
        const real = await realpath(full).catch(() => undefined);
        if (!real || path.relative(root, real).startsWith('..') || path.isAbsolute(path.relative(root, real))) continue;
      } else if (!item.isFile()) continue;
      const info = await stat(full).catch(() => undefined);
      if (info?.isFile()) found.push({ file: full, size: info.size, mtimeMs: info.mtimeMs });
    }
    symlinkedDirs += items.filter((item) => item.isSymbolicLink() && !item.name.endsWith('.ipynb') && !item.name.startsWith('.')).length;
  }
  if (symlinkedDirs) notes.push(`${symlinkedDirs} symbolic link(s) not followed (they may point outside the notebook directory)`);
  found.sort((a, b) => b.mtimeMs - a.mtimeMs);
  const described = await Promise.all(
    found.slice(0, limits.maxNotebooks).map(async ({ file, size, mtimeMs }) => {
      const facts = await describeNotebook(file, size, limits);
      const modified = new Date(mtimeMs).toISOString();
      return {
        path: path.relative(root, file),
        size_bytes: size,
        modified,
        ...facts,
        last_run: facts.last_run ?? modified,
        last_run_from: facts.last_run ? 'execution metadata' : 'file modified time',
      } satisfies ListedNotebook;
    }),
  );
  return { notebooks: described, truncated: found.length > limits.maxNotebooks || notes.some((n) => n.startsWith('stopped')), found: found.length, notes };
}

/** Cell counts and the last run of one notebook: parsed whole when small, scanned when large, else unknown. */
export async function describeNotebook(file: string, size: number, limits: Pick<ListingLimits, 'fullParseBytes' | 'scanBytes'>): Promise<NotebookFacts> {
  if (size <= limits.fullParseBytes) {
    try {
      return factsOf(JSON.parse(await readFile(file, 'utf8')) as unknown);
    } catch (error) {
      return { cells: null, code_cells: null, last_run: null, note: `not readable as a notebook: ${(error as Error).message.slice(0, 200)}` };
    }
  }
  if (size <= limits.scanBytes) return scanNotebook(file);
  return { cells: null, code_cells: null, last_run: null, note: `larger than ${Math.round(limits.scanBytes / 2 ** 20)} MiB: not read` };
}

function factsOf(raw: unknown): NotebookFacts {
  const nb = raw as { cells?: unknown; metadata?: Record<string, unknown> };
  if (!nb || typeof nb !== 'object' || !Array.isArray(nb.cells)) return { cells: null, code_cells: null, last_run: null, note: 'not an nbformat 4 notebook' };
  const cells = nb.cells as Array<{ cell_type?: unknown; metadata?: unknown }>;
  const runs = cells.map((cell) =>
    cell && typeof cell.metadata === 'object' && cell.metadata ? lastRunOf(cell.metadata as Record<string, unknown>) : undefined,
  );
  const metadata = nb.metadata && typeof nb.metadata === 'object' ? nb.metadata : {};
  const kernel = (metadata.kernelspec as { name?: unknown } | undefined)?.name;
  const environments = environmentsOf(metadata).length;
  return {
    cells: cells.length,
    code_cells: cells.filter((cell) => cell?.cell_type === 'code').length,
    last_run: latest(runs.filter((run): run is string => run !== undefined)) ?? null,
    ...(typeof kernel === 'string' ? { kernel } : {}),
    ...(environments ? { environments } : {}),
  };
}

/** A key (never inside a string value, where its quotes would be escaped) and its value. */
const CELL_TYPE = /(?<!\\)"cell_type"\s*:\s*"(code|markdown|raw)"/g;
const RUN_TIME = /(?<!\\)"(?:shell\.execute_reply|iopub\.status\.idle)"\s*:\s*"([^"\\]{10,40})"/g;
/** Characters kept from one chunk for the next, so a key split between chunks is still found. */
const CARRY = 256;

/**
 * Counts cells and finds the latest run time in a large notebook without parsing it (one pass,
 * bounded memory: `chunkBytes` at a time, default 1 MiB).
 */
export async function scanNotebook(file: string, chunkBytes = 1 << 20): Promise<NotebookFacts> {
  let carry = '';
  let cells = 0;
  let code = 0;
  const times: string[] = [];
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = carry + chunk;
      // A match that ends inside the carried part was counted with the previous chunk.
      for (const match of text.matchAll(CELL_TYPE)) {
        if (match.index! + match[0].length <= carry.length) continue;
        cells++;
        if (match[1] === 'code') code++;
      }
      for (const match of text.matchAll(RUN_TIME)) {
        if (match.index! + match[0].length > carry.length) times.push(match[1]!);
      }
      carry = text.slice(-CARRY);
    }
  } catch (error) {
    return { cells: null, code_cells: null, last_run: null, note: `not readable: ${(error as Error).message.slice(0, 200)}` };
  } finally {
    stream.destroy();
  }
  return { cells, code_cells: code, last_run: latest(times) ?? null, note: 'large file: cells counted by a text scan' };
}
