import { positionOfId } from '../notebook/cellRef.js';
import { agentParts } from '../output/agentContent.js';
import type { Session } from '../sessions/session.js';
import { JlabError } from '../util/errors.js';
import { redactSecrets } from '../util/secrets.js';

/**
 * The cell-output resource: a cell's whole output as the agent reads it (clean text, errors as
 * `ename: evalue` and the traceback), page by page, for replies the output budget cut.
 * `jlab-mcp://sessions/{session_id}/cells/{cell_id}/output` is the first page;
 * `…/output?offset=N` the page that starts at character N (UTF-16 code units). A page is one
 * output budget long; its last line says where the next one starts.
 */
export const CELL_OUTPUT_TEMPLATE = 'jlab-mcp://sessions/{session_id}/cells/{cell_id}/output';

/** The resource that holds a cell's full output, from `offset` on (the first page without one). */
export function cellOutputUri(sessionId: string, cellId: string, offset?: number): string {
  const base = `jlab-mcp://sessions/${encodeURIComponent(sessionId)}/cells/${encodeURIComponent(cellId)}/output`;
  return offset ? `${base}?offset=${offset}` : base;
}

export interface Page {
  text: string;
  offset: number;
  /** Where the next page starts; null on the last page. */
  nextOffset: number | null;
  total: number;
}

/** `size` characters of `text` from `offset`, never ending between the halves of a surrogate pair. */
export function pageOf(text: string, offset: number, size: number): Page {
  let end = Math.min(text.length, offset + Math.max(1, size));
  const code = text.charCodeAt(end - 1);
  // A page of one character that is half a pair takes the whole pair instead.
  if (end < text.length && code >= 0xd800 && code <= 0xdbff) end += end - 1 > offset ? -1 : 1;
  return { text: text.slice(offset, end), offset, nextOffset: end < text.length ? end : null, total: text.length };
}

/** The `offset` query of a cell-output URI: absent is 0; anything but a whole number ≥ 0 is refused. */
export function offsetOf(uri: URL): number {
  const raw = uri.searchParams.get('offset');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new JlabError('INVALID_ARGUMENT', `offset must be a whole number of characters (0 or more), not "${raw}".`, {
      hint: `Read ${uri.href.replace(/\?.*$/, '')} for the first page; each page's last line names the next one.`,
    });
  }
  return Number(raw);
}

/** One page of a cell's output as resource contents: the text, a line saying what follows, and the page in _meta. */
export function readCellOutput(session: Session, cellId: string, offset: number, pageSize: number) {
  const cells = session.notebook.cells;
  const index = positionOfId(cells, cellId);
  const cell = cells[index]!;
  const parts = cell.cell_type === 'code' ? agentParts(cell.outputs) : { text: '', images: [] };
  const text = redactSecrets(parts.text);
  if (offset > text.length) {
    throw new JlabError('INVALID_ARGUMENT', `offset ${offset} is past the end of cell ${index}'s output (${text.length} characters).`, {
      hint: `Use an offset from 0 to ${text.length}; ${cellOutputUri(session.id, cellId)} is the first page.`,
    });
  }
  const page = pageOf(text, offset, pageSize);
  const notes: string[] = [];
  if (page.nextOffset !== null) {
    notes.push(
      `[characters ${page.offset}–${page.nextOffset} of ${page.total} in the output of cell ${index} (id ${cellId}); next page: ${cellOutputUri(session.id, cellId, page.nextOffset)}]`,
    );
  } else if (page.offset > 0) {
    notes.push(`[characters ${page.offset}–${page.total} of ${page.total}: the end of cell ${index}'s output (id ${cellId})]`);
  }
  if (page.nextOffset === null && parts.images.length > 0)
    notes.push(`[${parts.images.length} image(s) of this cell are not in this text; they are in cell ${index} of the notebook]`);
  if (page.total === 0 && notes.length === 0)
    notes.push(cell.cell_type === 'code' ? `(cell ${index} has no text output)` : `(cell ${index} is a ${cell.cell_type} cell: it has no output)`);
  const body = notes.length ? `${page.text}${page.text === '' || page.text.endsWith('\n') ? '' : '\n'}${notes.join('\n')}` : page.text;
  return {
    text: body,
    meta: { offset: page.offset, next_offset: page.nextOffset, total_chars: page.total, cell: { id: cellId, index }, images: parts.images.length },
  };
}
