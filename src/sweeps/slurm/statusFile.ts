/**
 * The run's status file, `<experimentDir>/.run-0007.status.json` beside `run-0007.ipynb`,
 * written atomically by the task's runner (assets/sweeps/run_notebook.py) at its start, after
 * every cell and at its end. Read loosely: unknown fields pass, a wrong field is dropped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const optional = <T extends z.ZodTypeAny>(schema: T) => schema.optional().catch(undefined);

const RunStatusSchema = z.looseObject({
  state: z.enum(['running', 'completed', 'failed', 'cancelled', 'timeout']),
  startedAt: optional(z.string()),
  endedAt: optional(z.string()),
  node: optional(z.string()),
  error: optional(z.string()),
  cellReached: optional(z.number().int().min(0)),
  /** The attempt and array job that wrote it: a file left by an earlier attempt is not this one's. */
  attempt: optional(z.number().int()),
  jobId: optional(z.string()),
  taskId: optional(z.number().int()),
});

export type RunStatus = z.infer<typeof RunStatusSchema>;

/** `.run-0007.status.json` beside `run-0007.ipynb`. */
export function statusPathOf(notebookPath: string): string {
  return path.join(path.dirname(notebookPath), `.${path.basename(notebookPath, '.ipynb')}.status.json`);
}

/** The status file of a run, or undefined when it is absent, unreadable or not one (a runner writes it whole or not at all). */
export async function readRunStatus(notebookPath: string): Promise<RunStatus | undefined> {
  const raw = await readFile(statusPathOf(notebookPath), 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  try {
    const parsed = RunStatusSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
