import type { Config } from '../../config/settings.js';
import type { SessionRegistry } from '../../state/registry.js';
import { messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { registryPersistence } from './registryPersistence.js';
import { checkSdkHooks } from './sdkHooks.js';
import { TaskRunner } from './taskRunner.js';
import { TaskStore } from './taskStore.js';

/**
 * The task runner the settings ask for (none with JLAB_MCP_TASKS=false, or when this SDK lacks
 * the hooks tasks need: then every call is plain), its records in the registry when there is one.
 */
export function taskRunnerFor(config: Config, registry: SessionRegistry | undefined): TaskRunner | undefined {
  if (!config.tasks) return undefined;
  try {
    checkSdkHooks();
  } catch (error) {
    log.error(`${messageOf(error)}; serving without MCP tasks`);
    return undefined;
  }
  const persistence = registry?.writable ? registryPersistence(registry) : undefined;
  return new TaskRunner(new TaskStore({ ttlMs: config.taskTtl * 1000, pollIntervalMs: config.taskPollInterval * 1000, persistence }));
}
