import { z } from 'zod';
import { serverRecordSchema, type ServerRecord } from '../backends/records.js';

export type { ServerRecord };

/** A cell running when the record was written: enough to follow it to its end after a restart. */
const runningRecordSchema = z.object({
  msgId: z.string().min(1),
  cellId: z.string().min(1),
  startedAt: z.string(),
});

const sessionRecordSchema = z.object({
  id: z.string().min(1),
  experimentName: z.string(),
  profile: z.string().min(1),
  kernelId: z.string().min(1),
  kernelName: z.string(),
  notebookPath: z.string().min(1),
  /** Where the Python kernel writes the messages of the cell it runs (recovery after a restart). */
  spoolPath: z.string().optional(),
  running: runningRecordSchema.optional(),
});

/** An MCP task (src/mcp/tasks/taskRecord.ts owns its shape and checks it), kept so its id outlives a restart. */
const persistedTaskSchema = z.looseObject({ taskId: z.string().min(1) });

const runStateSchema = z.enum(['pending', 'running', 'completed', 'failed', 'cancelled', 'timeout']);

/** A sweep (src/sweeps/): its plan, the attempts submitted and the last known state of every run, so a restarted jlab-mcp can poll and cancel. */
const sweepRecordSchema = z.object({
  id: z.string().min(1),
  notebookPath: z.string().min(1),
  experimentName: z.string(),
  experimentDir: z.string().min(1),
  executor: z.enum(['local', 'external', 'slurm']),
  profile: z.string().optional(),
  kernelName: z.string().optional(),
  maxConcurrent: z.number().int().min(1),
  cellTimeoutS: z.number().positive().optional(),
  createdAt: z.string(),
  runs: z.array(z.object({ index: z.number().int().min(0), parameters: z.record(z.string(), z.unknown()), notebookPath: z.string().min(1) })),
  attempts: z.array(
    z.object({
      attempt: z.number().int().min(1),
      jobId: z.string().optional(),
      runIndices: z.array(z.number().int().min(0)),
      submittedAt: z.string(),
      command: z.string().optional(),
    }),
  ),
  /** The last report of each run (by index), from the newest attempt that ran it. */
  reports: z.record(
    z.string(),
    z.object({
      index: z.number().int(),
      state: runStateSchema,
      startedAt: z.string().optional(),
      endedAt: z.string().optional(),
      node: z.string().optional(),
      arrayTaskId: z.number().int().optional(),
      error: z.string().optional(),
      cellReached: z.number().int().optional(),
    }),
  ),
});

/**
 * The registry file, version 1. Checked whole when read: a file that does not match is not
 * trusted (set aside), since adopting from it would signal pids and cancel jobs it names.
 */
export const registryContentSchema = z.object({
  version: z.literal(1),
  owner: z.object({ pid: z.number().int(), host: z.string(), startedAt: z.string() }),
  servers: z.record(z.string(), serverRecordSchema),
  sessions: z.record(z.string(), sessionRecordSchema),
  /** Optional: registries written before tasks existed have none. */
  tasks: z.record(z.string(), persistedTaskSchema).optional(),
  /** Optional: registries written before sweeps existed have none. */
  sweeps: z.record(z.string(), sweepRecordSchema).optional(),
});

export type RunningRecord = z.infer<typeof runningRecordSchema>;
export type SessionRecord = z.infer<typeof sessionRecordSchema>;
export type PersistedTask = z.infer<typeof persistedTaskSchema>;
export type SweepRecord = z.infer<typeof sweepRecordSchema>;
export type RegistryContent = z.infer<typeof registryContentSchema>;

/** The registry in `value` (parsed JSON), or why it is not one, in a line for the log. */
export function parseRegistryContent(value: unknown): { ok: true; content: RegistryContent } | { ok: false; why: string } {
  const result = registryContentSchema.safeParse(value);
  if (result.success) return { ok: true, content: result.data };
  const issues = result.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
  return { ok: false, why: `not a jlab-mcp registry (version 1): ${issues.join('; ')}${result.error.issues.length > 3 ? '; …' : ''}` };
}
