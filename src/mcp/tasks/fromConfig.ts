import type { Config } from '../../config/settings.js';
import type { SessionRegistry } from '../../state/registry.js';
import { registryPersistence } from './registryPersistence.js';
import { TaskRunner } from './taskRunner.js';
import { TaskStore } from './taskStore.js';

/** The task runner the settings ask for (none with JLAB_MCP_TASKS=false), its records in the registry when there is one. */
export function taskRunnerFor(config: Config, registry: SessionRegistry | undefined): TaskRunner | undefined {
  if (!config.tasks) return undefined;
  const persistence = registry?.writable ? registryPersistence(registry) : undefined;
  return new TaskRunner(new TaskStore({ ttlMs: config.taskTtl * 1000, pollIntervalMs: config.taskPollInterval * 1000, persistence }));
}
