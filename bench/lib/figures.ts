/** One line of the results table: our figure, its baseline, the ratio and the goal it is held to. */
export interface Figure {
  id: string;
  what: string;
  ours: number | null;
  baseline: number | null;
  unit: 'ms' | 'MB' | 'errors' | 'cells/s';
  /** ours ÷ baseline, when there is a baseline. */
  ratio: number | null;
  /** What must stay at or under `max`: the ratio or our own figure. */
  goal?: { on: 'ratio' | 'ours'; max: number };
  note?: string;
}

export interface ScenarioResult {
  figures: Figure[];
  /** Samples and breakdowns, for the JSON file. */
  raw: Record<string, unknown>;
  /** Sentences for the reader of the table (fairness caveats, breakdowns). */
  notes: string[];
  /** Failures counted without stopping the scenario; any of them fails the run. */
  errors?: string[];
}

export type Verdict = 'ok' | 'MISS' | '';

export function verdict(figure: Figure): Verdict {
  if (!figure.goal) return '';
  const value = figure.goal.on === 'ratio' ? figure.ratio : figure.ours;
  if (value === null || !Number.isFinite(value)) return 'MISS';
  return value <= figure.goal.max ? 'ok' : 'MISS';
}

export function goalText(figure: Figure): string {
  if (!figure.goal) return '';
  return figure.goal.on === 'ratio' ? `≤ ${figure.goal.max}×` : `≤ ${figure.goal.max} ${figure.unit}`;
}
