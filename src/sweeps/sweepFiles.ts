import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../notebook/atomicWrite.js';
import { serializeNotebook } from '../notebook/document.js';
import type { NotebookContent } from '../notebook/types.js';
import { suggestedCall } from '../mcp/suggestedCall.js';
import { JlabError } from '../util/errors.js';
import { injectParameters } from './injectParameters.js';
import type { ParameterLanguage } from './parameterLanguage.js';
import type { PlannedRun } from './types.js';

/** `<experimentDir>/sweep.json`: which sweep the folder holds, for a person and for the next start_sweep. */
export function sweepMarkerPath(experimentDir: string): string {
  return path.join(experimentDir, 'sweep.json');
}

/** Refuses an experiment folder that already holds a sweep (SWEEP_EXISTS, naming it when known). */
export async function assertNoSweepIn(experimentDir: string, knownId: string | undefined): Promise<void> {
  let id = knownId;
  if (!id) {
    try {
      id = (JSON.parse(await readFile(sweepMarkerPath(experimentDir), 'utf8')) as { sweep_id?: string }).sweep_id ?? 'unknown';
    } catch {
      const entries = await readdir(experimentDir).catch(() => [] as string[]);
      if (entries.some((name) => /^run-\d+\.ipynb$/.test(name))) id = 'unknown';
    }
  }
  if (!id) return;
  const look = id === 'unknown' ? `look inside ${experimentDir}` : suggestedCall('sweep_status', { sweep_id: id });
  throw new JlabError(
    'SWEEP_EXISTS',
    `The experiment folder ${experimentDir} already holds ${id === 'unknown' ? 'the run notebooks of a sweep' : `sweep ${id}`}.`,
    {
      hint: `Use another experiment_name, or ${look} (rerun_sweep runs it again).`,
      context: { sweepId: id, experimentDir },
    },
  );
}

/**
 * Creates the experiment folder with one notebook per run (its injected-parameters cell) and
 * sweep.json. On any failure what was created is removed again: a refused sweep writes nothing.
 * Returns whether the parameters went on top (no cell tagged `parameters`) and whether the folder is new.
 */
export async function writeSweepFiles(
  experimentDir: string,
  source: NotebookContent,
  runs: readonly PlannedRun[],
  language: ParameterLanguage,
  marker: Record<string, unknown>,
): Promise<{ injectedAtTop: boolean; folderIsOurs: boolean }> {
  const created = await mkdir(experimentDir, { recursive: true });
  let injectedAtTop = false;
  try {
    for (const run of runs) {
      const { content, afterParametersCell } = injectParameters(source, run.parameters, language);
      injectedAtTop = !afterParametersCell;
      await writeFileAtomic(run.notebookPath, serializeNotebook(content));
    }
    await writeFileAtomic(sweepMarkerPath(experimentDir), `${JSON.stringify(marker, null, 1)}\n`);
    return { injectedAtTop, folderIsOurs: created !== undefined };
  } catch (error) {
    await removeSweepFiles(experimentDir, runs, created !== undefined);
    throw error;
  }
}

/** Undoes writeSweepFiles (after a refused submit): the folder itself when this sweep created it. */
export async function removeSweepFiles(experimentDir: string, runs: readonly PlannedRun[], folderIsOurs: boolean): Promise<void> {
  if (folderIsOurs) {
    await rm(experimentDir, { recursive: true, force: true });
    return;
  }
  await Promise.all([...runs.map((run) => rm(run.notebookPath, { force: true })), rm(sweepMarkerPath(experimentDir), { force: true })]);
}
