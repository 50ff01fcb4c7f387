import { readFile } from 'node:fs/promises';

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
 */
export async function readNotebook<T = any>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** The cells of the notebook file. */
export async function readCells<C = FileCell>(file: string): Promise<C[]> {
  return (await readNotebook<{ cells: C[] }>(file)).cells;
}
