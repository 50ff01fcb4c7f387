import path from 'node:path';
import { JlabError } from '../util/errors.js';
import { isIdentifier, notJson, type ParameterLanguage } from './parameterLanguage.js';

/** What the agent asked for: a grid of name → values, or explicit runs; exactly one of the two. */
export interface SweepGrid {
  parameters?: Record<string, unknown>;
  runs?: unknown[];
}

const invalid = (message: string, hint: string) => new JlabError('INVALID_ARGUMENT', message, { hint });

/**
 * The parameter sets of a sweep, checked: the cartesian product of a grid (first name slowest,
 * last fastest, as itertools.product) or the explicit runs as given. Every name must be an
 * identifier of the notebook's language and every value JSON; more than `maxRuns` sets is
 * SWEEP_TOO_LARGE with the count (computed before anything is built).
 */
export function planParameterSets(grid: SweepGrid, language: ParameterLanguage, maxRuns: number): Record<string, unknown>[] {
  const { parameters, runs } = grid;
  if ((parameters === undefined) === (runs === undefined)) {
    throw invalid(
      parameters === undefined
        ? 'start_sweep needs parameters (a grid) or runs (a list of parameter sets); neither was given.'
        : 'start_sweep takes parameters or runs, not both.',
      'Pass parameters={"lr": [0.1, 0.01], "seed": [1, 2]} for a grid, or runs=[{"lr": 0.1}, …] for explicit sets.',
    );
  }
  if (parameters !== undefined) return gridSets(parameters, language, maxRuns);
  return explicitSets(runs ?? [], language, maxRuns);
}

function gridSets(parameters: Record<string, unknown>, language: ParameterLanguage, maxRuns: number): Record<string, unknown>[] {
  const names = Object.keys(parameters);
  if (names.length === 0)
    throw invalid('parameters is empty: a grid needs at least one name with a list of values.', 'Pass e.g. parameters={"lr": [0.1, 0.01]}.');
  for (const name of names) {
    checkName(name, language);
    const values = parameters[name];
    if (!Array.isArray(values)) throw invalid(`parameters.${name} is not a list of values.`, `Pass a list, e.g. "${name}": [1, 2, 3].`);
    if (values.length === 0)
      throw invalid(`parameters.${name} is an empty list: the grid would have no runs.`, `Give ${name} at least one value, or leave it out.`);
    checkJson(values, `parameters.${name}`);
  }
  const count = names.reduce((product, name) => product * (parameters[name] as unknown[]).length, 1);
  checkCount(count, maxRuns);
  let sets: Record<string, unknown>[] = [{}];
  for (const name of names) sets = sets.flatMap((set) => (parameters[name] as unknown[]).map((value) => ({ ...set, [name]: value })));
  return sets;
}

function explicitSets(runs: unknown[], language: ParameterLanguage, maxRuns: number): Record<string, unknown>[] {
  if (runs.length === 0) throw invalid('runs is an empty list: the sweep would have no runs.', 'Pass at least one parameter set, e.g. runs=[{"lr": 0.1}].');
  checkCount(runs.length, maxRuns);
  return runs.map((run, i) => {
    if (typeof run !== 'object' || run === null || Array.isArray(run))
      throw invalid(`runs[${i}] is not an object of name → value.`, 'Each run is an object such as {"lr": 0.1, "seed": 1}.');
    for (const name of Object.keys(run)) checkName(name, language);
    checkJson(run, `runs[${i}]`);
    return { ...(run as Record<string, unknown>) };
  });
}

function checkName(name: string, language: ParameterLanguage): void {
  if (isIdentifier(name, language)) return;
  throw invalid(
    `Parameter name ${JSON.stringify(name)} is not a ${language === 'r' ? 'R' : language === 'julia' ? 'Julia' : 'Python'} identifier (or is a reserved word).`,
    'Use names the notebook can assign to, e.g. learning_rate.',
  );
}

function checkJson(value: unknown, at: string): void {
  const why = notJson(value, at);
  if (why) throw invalid(`A parameter value is not JSON: ${why}.`, 'Use numbers, strings, booleans, null, lists and objects.');
}

function checkCount(count: number, maxRuns: number): void {
  if (count <= maxRuns) return;
  throw new JlabError('SWEEP_TOO_LARGE', `The sweep has ${count} runs, more than the ${maxRuns} JLAB_MCP_SWEEP_MAX_RUNS allows.`, {
    hint: 'Use fewer values, split the sweep, or ask the user to raise JLAB_MCP_SWEEP_MAX_RUNS.',
    context: { runs: count, maxRuns },
  });
}

/** A run's notebook file name: run-0007.ipynb, with more digits when the sweep has 10,000 runs or more. */
export function runNotebookName(index: number, runCount: number): string {
  const width = Math.max(4, String(Math.max(runCount - 1, 0)).length);
  return `run-${String(index).padStart(width, '0')}.ipynb`;
}

export function runNotebookPath(experimentDir: string, index: number, runCount: number): string {
  return path.join(experimentDir, runNotebookName(index, runCount));
}
