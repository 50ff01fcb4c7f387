import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { countStates, isEnded, resultsPaths, type ResultRow } from '../../sweeps/results.js';
import { sweepPlotPng } from '../../sweeps/plot.js';
import { progressText, type SweepView } from '../../sweeps/sweepManager.js';
import type { SweepRecord } from '../../state/records.js';
import { redactSecrets } from '../../util/secrets.js';
import type { OutputBudget } from '../cellResult.js';

/**
 * The structured content of start_sweep, sweep_status, cancel_sweep and rerun_sweep. Compact on
 * purpose (every tool's schema is sent each turn): the fields a program branches on are declared,
 * the rest (experiment_dir, results_csv, attempts, job_ids, notes; per run parameters, duration_s, node,
 * array_task_id, error, values, notebook) ride along in the loose objects.
 */
export const sweepOutput = z.looseObject({
  sweep_id: z.string(),
  state: z.enum(['planned', 'running', 'ended']),
  progress: z.string(),
  counts: z.record(z.string(), z.number()),
  /** The table so far, cut to the output budget when `truncated` (results_csv has every row). */
  runs: z.array(z.looseObject({ index: z.number().int(), status: z.string() })),
  truncated: z.boolean(),
});

/** The sweep as the agent reads it: counts, the table within the text budget (a link to results.csv past it) and, with a numeric value recorded, a plot. */
export async function sweepReply(
  view: SweepView,
  budget: OutputBudget,
  extra: { notes?: string[]; plot?: boolean; fields?: Record<string, unknown>; planned?: boolean } = {},
): Promise<CallToolResult> {
  const { record, rows } = view;
  const { csv } = resultsPaths(record.experimentDir);
  const shown = withinBudget(rows, budget.textBudget);
  const truncated = shown.length < (extra.planned ? record.runs.length : rows.length);
  const notes = [...(extra.notes ?? [])];
  if (truncated && !extra.planned) notes.push(`${shown.length} of ${rows.length} runs shown; ${csv} has all of them.`);
  const data = {
    sweep_id: record.id,
    state: extra.planned ? 'planned' : rows.every((row) => isEnded(row.status)) ? 'ended' : 'running',
    progress: progressText(rows),
    counts: countStates(rows),
    experiment_dir: record.experimentDir,
    results_csv: csv,
    attempts: record.attempts.length,
    // SLURM: the array job of each attempt, for squeue/sacct/scancel by a person.
    ...(record.attempts.some((attempt) => attempt.jobId) && { job_ids: record.attempts.flatMap((attempt) => (attempt.jobId ? [attempt.jobId] : [])) }),
    ...extra.fields,
    runs: shown,
    truncated,
    notes,
  };
  const structured = JSON.parse(redactSecrets(JSON.stringify(data))) as Record<string, unknown>;
  const content: CallToolResult['content'] = [{ type: 'text', text: redactSecrets(JSON.stringify(data, null, 1)) }];
  if (truncated && !extra.planned) {
    content.push({
      type: 'resource_link',
      uri: sweepResultsUri(record.id),
      name: `sweep-${record.id}-results`,
      title: `Results of sweep ${record.id}`,
      mimeType: 'text/csv',
    });
  }
  if (extra.plot !== false) {
    const plot = await sweepPlotPng(rows).catch(() => undefined);
    if (plot) content.push({ type: 'image', data: plot.data, mimeType: 'image/png' });
  }
  return { content, structuredContent: structured };
}

/** As many rows as fit in about the text budget, in index order (at least one). */
function withinBudget(rows: readonly ResultRow[], textBudget: number): ResultRow[] {
  const shown: ResultRow[] = [];
  let used = 0;
  for (const row of rows) {
    used += JSON.stringify(row).length + 4;
    if (shown.length > 0 && used > textBudget) break;
    shown.push(row);
  }
  return shown;
}

export const SWEEP_RESULTS_TEMPLATE = 'jlab-mcp://sweeps/{sweep_id}/results.csv';

/** The resource that serves a sweep's whole results.csv (registered with sweep_status). */
export function sweepResultsUri(sweepId: string): string {
  return SWEEP_RESULTS_TEMPLATE.replace('{sweep_id}', encodeURIComponent(sweepId));
}

/** One line per sweep for list_sweeps. */
export function sweepSummary(record: SweepRecord): Record<string, unknown> {
  const states = record.runs.map((run) => record.reports[run.index]?.state ?? 'pending');
  const counts = Object.fromEntries([...new Set(states)].map((state) => [state, states.filter((each) => each === state).length]));
  return {
    sweep_id: record.id,
    experiment_name: record.experimentName,
    notebook_path: record.notebookPath,
    experiment_dir: record.experimentDir,
    executor: record.executor,
    runs: record.runs.length,
    counts,
    state: states.every(isEnded) ? 'ended' : 'running',
    created_at: record.createdAt,
  };
}
