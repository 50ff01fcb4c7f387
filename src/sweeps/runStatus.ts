import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../notebook/atomicWrite.js';
import type { RunReport } from './types.js';

/** `<experimentDir>/.run-0007.status.json` beside `run-0007.ipynb`: written atomically by whoever executes the run. */
export function statusPathOf(notebookPath: string): string {
  return path.join(path.dirname(notebookPath), `.${path.basename(notebookPath, '.ipynb')}.status.json`);
}

const statusSchema = z.looseObject({
  state: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled', 'timeout']),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  node: z.string().optional(),
  error: z.string().optional(),
  cellReached: z.number().int().optional(),
  kernelId: z.string().optional(),
});

/** What the status file holds; `kernelId` (local runs) lets a later jlab-mcp shut down the kernel of a run it finds cut short. */
export type RunStatus = Omit<RunReport, 'index' | 'arrayTaskId'> & { kernelId?: string };

export async function writeRunStatus(notebookPath: string, status: RunStatus): Promise<void> {
  await writeFileAtomic(statusPathOf(notebookPath), `${JSON.stringify(status)}\n`);
}

/** The run's status file, or undefined when there is none (not started) or it does not check out. */
export async function readRunStatus(notebookPath: string): Promise<RunStatus | undefined> {
  try {
    const parsed = statusSchema.safeParse(JSON.parse(await readFile(statusPathOf(notebookPath), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
