import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { JlabError } from '../util/errors.js';
import { writeFileAtomic } from './atomicWrite.js';
import type { Cell, CodeCell, KernelSpecInfo, MarkdownCell, NotebookContent, Output } from './types.js';

const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

/**
 * One notebook file and its in-memory model. The session that owns it is its only writer;
 * every change is followed by `save()`, which writes the whole file atomically. Saves are
 * chained so a slow write can never land after a newer one.
 */
export class NotebookDocument {
  private saving: Promise<void> = Promise.resolve();
  /** Each cell's serialized text, dropped by `changed()`: a save re-serializes only what changed. */
  private readonly cellText = new WeakMap<Cell, string>();

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

  /** Reads and loosely validates a notebook; unknown fields are kept and written back. */
  static async load(path: string): Promise<NotebookDocument> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new JlabError('NOTEBOOK_INVALID', `Cannot read ${path} as a notebook: ${(error as Error).message}`);
    }
    return new NotebookDocument(path, normalizeNotebook(parsed, path));
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

  codeCellAt(index: number): CodeCell {
    const cell = this.cells[this.resolveIndex(index)]!;
    if (cell.cell_type !== 'code') {
      throw new JlabError('NOT_A_CODE_CELL', `Cell ${index} is a ${cell.cell_type} cell, not a code cell.`, {
        hint: 'Use edit_markdown for markdown cells.',
      });
    }
    return cell;
  }

  markdownCellAt(index: number): MarkdownCell {
    const cell = this.cells[this.resolveIndex(index)]!;
    if (cell.cell_type !== 'markdown') {
      throw new JlabError('NOT_A_MARKDOWN_CELL', `Cell ${index} is a ${cell.cell_type} cell, not a markdown cell.`, {
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
    return position;
  }

  remove(position: number): Cell {
    return this.cells.splice(position, 1)[0]!;
  }

  indexOf(cell: Cell): number {
    return this.cells.indexOf(cell);
  }

  setKernelInfo(kernelspec: KernelSpecInfo, languageInfo?: Record<string, unknown>): void {
    this.content.metadata.kernelspec = kernelspec;
    if (languageInfo) this.content.metadata.language_info = languageInfo;
  }

  /** Tells the document a cell's source, outputs or count changed (its cached text is stale). */
  changed(cell: Cell): void {
    this.cellText.delete(cell);
  }

  /** The file's text: Jupyter's layout, built from cached per-cell text where cells did not change. */
  serialize(): string {
    return serializeNotebook(this.content, (cell) => {
      let text = this.cellText.get(cell);
      if (text === undefined) {
        text = serializeCell(cell);
        this.cellText.set(cell, text);
      }
      return text;
    });
  }

  /** Serializes now and writes atomically, after any save already in flight. */
  save(): Promise<void> {
    const text = this.serialize();
    const target = this.path;
    const next = this.saving.then(() => writeFileAtomic(target, text));
    this.saving = next.catch(() => {});
    return next.catch((error: unknown) => {
      throw new JlabError('NOTEBOOK_WRITE_FAILED', `Could not write ${target}: ${(error as Error).message}`, {
        hint: 'Check free space and permissions of the notebook directory; the previous version of the file is intact.',
      });
    });
  }

  private freshCellId(): string {
    // 32 random bits; a clash with an existing id is rare, so checking it is a plain scan.
    for (;;) {
      const id = randomBytes(4).toString('hex');
      if (!this.cells.some((cell) => cell.id === id)) return id;
    }
  }
}

/** Jupyter's own layout: one-space indent, multi-line strings as line arrays, trailing newline. */
export function serializeNotebook(content: NotebookContent, cellText: (cell: Cell) => string = serializeCell): string {
  // The cells are spliced in as text, so that unchanged cells need not be stringified again.
  const marker = '\u0000jlab-mcp-cells\u0000';
  const shell = JSON.stringify({ ...content, cells: marker }, null, 1);
  const cells = content.cells.length === 0 ? '[]' : `[\n${content.cells.map(cellText).join(',\n')}\n ]`;
  return `${shell.replace(JSON.stringify(marker), () => cells)}\n`;
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

function joinSource(source: unknown): string {
  if (Array.isArray(source)) return source.join('');
  return typeof source === 'string' ? source : '';
}

function normalizeNotebook(raw: unknown, path: string): NotebookContent {
  const invalid = (why: string) => new JlabError('NOTEBOOK_INVALID', `${path} is not an nbformat 4 notebook: ${why}.`);
  if (typeof raw !== 'object' || raw === null) throw invalid('not a JSON object');
  const nb = raw as Record<string, unknown>;
  if (nb.nbformat !== 4) throw invalid(`nbformat is ${String(nb.nbformat)}, expected 4`);
  if (!Array.isArray(nb.cells)) throw invalid('no cells array');
  const seen = new Set<string>();
  const cells = nb.cells.map((value, i): Cell => {
    if (typeof value !== 'object' || value === null) throw invalid(`cell ${i} is not an object`);
    const cell = { ...(value as Record<string, unknown>) };
    const type = cell.cell_type;
    if (type !== 'code' && type !== 'markdown' && type !== 'raw') throw invalid(`cell ${i} has cell_type ${String(type)}`);
    let id = typeof cell.id === 'string' && CELL_ID.test(cell.id) && !seen.has(cell.id) ? cell.id : undefined;
    while (!id || seen.has(id)) id = randomBytes(4).toString('hex');
    seen.add(id);
    const metadata = (typeof cell.metadata === 'object' && cell.metadata !== null ? cell.metadata : {}) as Record<string, unknown>;
    const base = { ...cell, id, metadata, source: joinSource(cell.source) };
    if (type === 'code') {
      return {
        ...base,
        cell_type: 'code',
        outputs: Array.isArray(cell.outputs) ? (cell.outputs as Output[]) : [],
        execution_count: typeof cell.execution_count === 'number' ? cell.execution_count : null,
      };
    }
    delete (base as Record<string, unknown>).outputs;
    delete (base as Record<string, unknown>).execution_count;
    return { ...base, cell_type: type } as Cell;
  });
  const minor = typeof nb.nbformat_minor === 'number' ? nb.nbformat_minor : 0;
  const metadata = typeof nb.metadata === 'object' && nb.metadata !== null ? (nb.metadata as NotebookContent['metadata']) : {};
  // Cell ids arrived in 4.5; a notebook we gave ids to is a 4.5 notebook now.
  return { ...nb, nbformat: 4, nbformat_minor: Math.max(minor, 5), metadata, cells } as NotebookContent;
}
