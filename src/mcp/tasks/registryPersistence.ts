import type { SessionRegistry } from '../../state/registry.js';
import type { TaskRecord } from './taskRecord.js';
import type { TaskPersistence } from './taskStore.js';

/** Task records kept in the session registry, so a task id outlives a restart with its session. */
export function registryPersistence(registry: SessionRegistry): TaskPersistence {
  return {
    load: () => Object.fromEntries(Object.entries(registry.tasks).filter(([, record]) => isTaskRecord(record))) as unknown as Record<string, TaskRecord>,
    save: (record) => registry.setTask(withoutImages(record) as unknown as { taskId: string }),
    remove: (taskId) => registry.removeTask(taskId),
  };
}

/**
 * The record as the registry keeps it: images in a result become a short note (the notebook has
 * them), so a day of tasks stays a small file that is rewritten on every change.
 */
function withoutImages(record: TaskRecord): TaskRecord {
  if (!record.result?.content.some((block) => block.type === 'image')) return { ...record };
  const content = record.result.content.map((block) =>
    block.type === 'image'
      ? { type: 'text' as const, text: `[an image (${block.mimeType}) is in the notebook; not kept across the restart of jlab-mcp]` }
      : block,
  );
  return { ...record, result: { ...record.result, content } };
}

/** Loose check of a record read back from disk: what the store relies on, nothing more. */
function isTaskRecord(value: Record<string, unknown>): boolean {
  return (
    typeof value.taskId === 'string' &&
    (value.generation === 'v1' || value.generation === 'v2') &&
    ['working', 'completed', 'failed', 'cancelled'].includes(String(value.status)) &&
    typeof value.createdAt === 'string' &&
    !Number.isNaN(Date.parse(value.createdAt)) &&
    typeof value.ttlMs === 'number' &&
    typeof value.pollIntervalMs === 'number'
  );
}
