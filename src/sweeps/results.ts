import path from 'node:path';
import { writeFileAtomic } from '../notebook/atomicWrite.js';
import type { RunReport, RunState } from './types.js';

/** One row of the results table: a run, its parameters, how it ended and what it recorded. */
export interface ResultRow {
  index: number;
  parameters: Record<string, unknown>;
  status: RunState;
  duration_s: number | null;
  node: string | null;
  array_task_id: number | null;
  error: string | null;
  values: Record<string, unknown>;
  notebook: string;
}

export const RUN_STATES: readonly RunState[] = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timeout'];

export function isEnded(state: RunState): boolean {
  return state !== 'pending' && state !== 'running';
}

export function resultRow(
  run: { index: number; parameters: Record<string, unknown>; notebookPath: string },
  report: RunReport | undefined,
  values: Record<string, unknown>,
): ResultRow {
  const started = report?.startedAt ? Date.parse(report.startedAt) : Number.NaN;
  const ended = report?.endedAt ? Date.parse(report.endedAt) : report?.state === 'running' ? Date.now() : Number.NaN;
  const duration = Number.isFinite(started) && Number.isFinite(ended) ? Math.round((ended - started) / 100) / 10 : null;
  return {
    index: run.index,
    parameters: run.parameters,
    status: report?.state ?? 'pending',
    duration_s: duration,
    node: report?.node ?? null,
    array_task_id: report?.arrayTaskId ?? null,
    error: report?.error ?? null,
    values,
    notebook: run.notebookPath,
  };
}

export function countStates(rows: readonly ResultRow[]): Record<RunState, number> {
  const counts = Object.fromEntries(RUN_STATES.map((state) => [state, 0])) as Record<RunState, number>;
  for (const row of rows) counts[row.status]++;
  return counts;
}

/** Names in first-seen order over all rows (parameters of explicit runs, recorded values). */
export function columnNames(rows: readonly ResultRow[], of: 'parameters' | 'values'): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row[of])) names.add(name);
  return [...names];
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV: index, each parameter, status, duration_s, node, array_task_id, error, each recorded value. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  const parameters = columnNames(rows, 'parameters');
  const values = columnNames(rows, 'values');
  const header = ['index', ...parameters, 'status', 'duration_s', 'node', 'array_task_id', 'error', ...values];
  const lines = rows.map((row) =>
    [
      row.index,
      ...parameters.map((name) => row.parameters[name]),
      row.status,
      row.duration_s,
      row.node,
      row.array_task_id,
      row.error,
      ...values.map((name) => row.values[name]),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[header.map(csvCell).join(','), ...lines].join('\r\n')}\r\n`;
}

export function resultsPaths(experimentDir: string): { csv: string; json: string } {
  return { csv: path.join(experimentDir, 'results.csv'), json: path.join(experimentDir, 'results.json') };
}

/** Rewrites results.csv and results.json in the experiment folder, each atomically. */
export async function writeResults(experimentDir: string, sweepId: string, rows: readonly ResultRow[]): Promise<void> {
  const { csv, json } = resultsPaths(experimentDir);
  const document = { sweep_id: sweepId, updated_at: new Date().toISOString(), counts: countStates(rows), runs: rows };
  await writeFileAtomic(json, `${JSON.stringify(document, null, 1)}\n`);
  await writeFileAtomic(csv, resultsCsv(rows));
}
