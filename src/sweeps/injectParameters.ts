import { randomBytes } from 'node:crypto';
import type { Cell, CodeCell, NotebookContent } from '../notebook/types.js';
import { parameterAssignments, type ParameterLanguage } from './parameterLanguage.js';

export const PARAMETERS_TAG = 'parameters';
export const INJECTED_TAG = 'injected-parameters';

function tagsOf(cell: Cell): string[] {
  const tags = (cell.metadata as { tags?: unknown }).tags;
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
}

/**
 * One run's notebook, papermill's way: outputs cleared, any earlier `injected-parameters` cell
 * removed (a papermill output used as input), and one new code cell with this run's assignments
 * right after the first cell tagged `parameters` — at the top when there is none
 * (`afterParametersCell` false then, for the result to say so).
 */
export function injectParameters(
  source: NotebookContent,
  parameters: Record<string, unknown>,
  language: ParameterLanguage,
): { content: NotebookContent; afterParametersCell: boolean } {
  const cells: Cell[] = source.cells
    .filter((cell) => !tagsOf(cell).includes(INJECTED_TAG))
    .map((cell) => (cell.cell_type === 'code' ? { ...cell, outputs: [], execution_count: null } : { ...cell }));
  const taken = new Set(cells.map((cell) => cell.id));
  let id = randomBytes(4).toString('hex');
  while (taken.has(id)) id = randomBytes(4).toString('hex');
  const injected: CodeCell = {
    cell_type: 'code',
    id,
    metadata: { tags: [INJECTED_TAG] },
    source: parameterAssignments(parameters, language),
    outputs: [],
    execution_count: null,
  };
  const at = cells.findIndex((cell) => tagsOf(cell).includes(PARAMETERS_TAG));
  cells.splice(at + 1, 0, injected);
  return { content: { ...source, cells }, afterParametersCell: at >= 0 };
}
