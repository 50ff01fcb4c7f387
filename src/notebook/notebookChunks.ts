import type { Cell, NotebookContent } from './types.js';

/** Stands in for the cells array while the notebook's own fields are stringified. */
const CELLS_MARKER = '\u0000jlab-mcp-cells\u0000';
const OPEN_CELLS = Buffer.from('[\n');
const BETWEEN_CELLS = Buffer.from(',\n');
const CLOSE_CELLS = Buffer.from('\n ]');
const NO_CELLS = Buffer.from('[]');

/**
 * The notebook file as byte chunks, in Jupyter's layout (the same bytes as serializeNotebook):
 * the notebook's own fields are stringified anew, each cell's bytes come from `cellBytes`
 * (cached by the document), so a save of a 40 MB notebook encodes only what changed and
 * writes the rest with one writev, without a 40 MB string join and re-encode.
 */
export function notebookChunks(content: NotebookContent, cellBytes: (cell: Cell) => Buffer): Buffer[] {
  const [head, tail] = notebookShell(content);
  const chunks: Buffer[] = [Buffer.from(head, 'utf8')];
  if (content.cells.length === 0) chunks.push(NO_CELLS);
  else {
    chunks.push(OPEN_CELLS);
    content.cells.forEach((cell, i) => {
      if (i > 0) chunks.push(BETWEEN_CELLS);
      chunks.push(cellBytes(cell));
    });
    chunks.push(CLOSE_CELLS);
  }
  chunks.push(Buffer.from(`${tail}\n`, 'utf8'));
  return chunks;
}

/** The notebook's JSON (one-space indent) before and after its cells array. */
export function notebookShell(content: NotebookContent): [head: string, tail: string] {
  const shell = JSON.stringify({ ...content, cells: CELLS_MARKER }, null, 1);
  const at = shell.indexOf(JSON.stringify(CELLS_MARKER));
  return [shell.slice(0, at), shell.slice(at + JSON.stringify(CELLS_MARKER).length)];
}

/** The notebook's text from its shell and its cells' texts (serializeNotebook's layout). */
export function notebookText(head: string, tail: string, cellTexts: readonly string[]): string {
  return `${head}${cellTexts.length === 0 ? '[]' : `[\n${cellTexts.join(',\n')}\n ]`}${tail}\n`;
}

/** The chunks left to write after a write that wrote `written` bytes of them. */
export function chunksAfter(chunks: readonly Buffer[], written: number): Buffer[] {
  let skip = written;
  let first = 0;
  while (first < chunks.length && skip >= chunks[first]!.length) skip -= chunks[first++]!.length;
  const rest = chunks.slice(first);
  if (rest.length > 0 && skip > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}
