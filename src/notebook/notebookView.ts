import { agentText } from '../output/agentContent.js';
import { wellFormed } from '../output/wellFormed.js';
import { RUNNING_MARK_KEY } from '../sessions/runningMark.js';
import type { Cell, Output } from './types.js';

/** Characters of one cell's source shown; the rest is counted. */
const SOURCE_LIMIT = 2000;
/** Output summary lines per cell, and characters per line. */
const OUTPUT_LINES = 5;
const LINE_LIMIT = 200;

/** One cell as read_notebook shows it: enough to see what changed, never its whole output. */
// a type alias, not an interface: it must fit the tool's loose output schema (an index signature)
export type CellView = {
  index: number;
  id: string;
  cell_type: string;
  source: string;
  source_chars: number;
  source_truncated: boolean;
  execution_count: number | null;
  /** jlab-mcp is running it now (its running mark). */
  running: boolean;
  output_count: number;
  /** One line per output: "stdout: first line (12 lines)", "error: ValueError: bad", "display: image/png". */
  outputs: string[];
};

export interface NotebookView {
  cell_count: number;
  start: number;
  cells: CellView[];
  /** Where the next page starts; null when these were the last cells. */
  next_start: number | null;
}

/**
 * Cells from `start` (negative counts from the end), at most `limit`, and no more than about
 * `budget` characters of JSON: the first cell is always shown, its source cut to SOURCE_LIMIT.
 */
export function viewCells(cells: readonly Cell[], start: number, limit: number, budget: number): NotebookView {
  const first = Math.min(cells.length, Math.max(0, start < 0 ? cells.length + start : start));
  const shown: CellView[] = [];
  let used = 0;
  for (let index = first; index < cells.length && shown.length < limit; index++) {
    const view = cellView(cells[index]!, index);
    used += JSON.stringify(view).length;
    if (shown.length > 0 && used > budget) break;
    shown.push(view);
  }
  const end = first + shown.length;
  return { cell_count: cells.length, start: first, cells: shown, next_start: end < cells.length ? end : null };
}

function cellView(cell: Cell, index: number): CellView {
  const outputs = cell.cell_type === 'code' ? cell.outputs : [];
  const summary = outputs.slice(0, OUTPUT_LINES).map(outputLine);
  if (outputs.length > OUTPUT_LINES) summary.push(`… ${outputs.length - OUTPUT_LINES} more outputs`);
  const mark = cell.metadata[RUNNING_MARK_KEY] as { status?: unknown } | undefined;
  return {
    index,
    id: cell.id,
    cell_type: cell.cell_type,
    source: cell.source.length > SOURCE_LIMIT ? `${wellFormed(cell.source.slice(0, SOURCE_LIMIT))}…` : cell.source,
    source_chars: cell.source.length,
    source_truncated: cell.source.length > SOURCE_LIMIT,
    execution_count: cell.cell_type === 'code' ? cell.execution_count : null,
    running: mark?.status === 'running',
    output_count: outputs.length,
    outputs: summary,
  };
}

function outputLine(output: Output): string {
  const record = output as Record<string, unknown>;
  switch (output.output_type) {
    case 'stream': {
      const text = textOf(record.text);
      return `${String(record.name)}: ${firstLine(text)} (${lineCount(text)} lines)`;
    }
    case 'error':
      return `error: ${short(`${String(record.ename)}: ${String(record.evalue)}`)}`;
    case 'execute_result':
    case 'display_data': {
      const data = (record.data ?? {}) as Record<string, unknown>;
      const kind = output.output_type === 'execute_result' ? 'result' : 'display';
      const plain = data['text/plain'] !== undefined ? `: ${firstLine(textOf(data['text/plain']))}` : '';
      return `${kind} ${Object.keys(data).join(', ')}${plain}`;
    }
    default:
      return String(output.output_type);
  }
}

function textOf(value: unknown): string {
  return Array.isArray(value) ? value.join('') : String(value ?? '');
}

function firstLine(text: string): string {
  const line =
    agentText(text.slice(0, 4 * LINE_LIMIT))
      .split('\n')
      .find((each) => each.trim() !== '') ?? '';
  return short(line);
}

function lineCount(text: string): number {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1).length;
}

function short(text: string): string {
  return text.length > LINE_LIMIT ? `${wellFormed(text.slice(0, LINE_LIMIT))}…` : text;
}
