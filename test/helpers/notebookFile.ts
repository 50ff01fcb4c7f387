import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { NotebookDocument } from '../../src/notebook/document.js';
import { journalPath } from '../../src/notebook/journal.js';
import { waitUntil } from './poll.js';

/** A cell as the .ipynb file holds it (the fields the tests look at; the rest passes through). */
export interface FileCell {
  id?: string;
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  outputs?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

export interface NotebookFile {
  cells: FileCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/**
 * The notebook file as JSON, typed as the caller says it looks (e.g. `NotebookFile`). Untold, it
 * is JSON.parse's `any`, as the tests that only assert on a few fields have always read it.
 * A notebook may have a journal beside it holding the last replies' cells until the next full
 * write (0.2 s after saves pause; JLAB_MCP_SAVE_INTERVAL at most, and for 4 MB and up): then it is read as jlab-mcp
 * opens it, file and journal, which is what the agent was shown. The file alone is checked where that is the
 * point (test/e2e/notebook-always-valid.test.ts).
 */
export async function readNotebook<T = any>(file: string): Promise<T> {
  // Serialized as the file will hold it (sources as lists of lines), not the in-memory model.
  if (existsSync(journalPath(file))) return JSON.parse((await NotebookDocument.load(file)).serialize()) as T;
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** The cells of the notebook file. */
export async function readCells<C = FileCell>(file: string): Promise<C[]> {
  return (await readNotebook<{ cells: C[] }>(file)).cells;
}

/** The cells of the .ipynb file alone, without a journal beside it: what a person's JupyterLab opens now. */
export async function readFileCellsOnly<C = FileCell>(file: string): Promise<C[]> {
  return (JSON.parse(await readFile(file, 'utf8')) as { cells: C[] }).cells;
}

/**
 * Waits until the notebook's journal is folded into the file (the full write that follows once
 * saves pause): for tests that compare the file's bytes before and after a call that must not
 * change it, so that the fold cannot land between the two reads.
 */
export async function notebookSettled(file: string, timeoutMs = 15_000): Promise<void> {
  await waitUntil(`the journal of ${file} folded into the file`, () => !existsSync(journalPath(file)), { timeoutMs });
}
