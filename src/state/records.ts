import type { BackendKind } from '../backends/types.js';

/** What a later jlab-mcp needs to find a server again. No token: `tokenFile` names a 0600 file. */
export interface ServerRecord {
  profile: string;
  backend: BackendKind;
  baseUrl: string;
  /** A 0600 file whose first line is the token (local runtime dir, SLURM job dir). */
  tokenFile?: string;
  /** Local backend: the Jupyter server's pid. */
  pid?: number;
  /** Local backend: its runtime directory (config, token), removed when the server is stopped. */
  runtimeDir?: string;
  /** SLURM backend: the job and its directory. */
  jobId?: string;
  jobDir?: string;
  /** SHA-256 fingerprint of the server's TLS certificate, when it serves HTTPS. */
  certFingerprint?: string;
  startedAt: string;
}

/** A cell running when the record was written: enough to follow it to its end after a restart. */
export interface RunningRecord {
  msgId: string;
  cellId: string;
  startedAt: string;
}

export interface SessionRecord {
  id: string;
  experimentName: string;
  profile: string;
  kernelId: string;
  kernelName: string;
  notebookPath: string;
  /** Where the Python kernel writes the messages of the cell it runs (recovery after a restart). */
  spoolPath?: string;
  running?: RunningRecord;
}

/** An MCP task (src/mcp/tasks/taskRecord.ts owns its shape), kept so its id outlives a restart. */
export interface PersistedTask {
  taskId: string;
  [field: string]: unknown;
}

export interface RegistryContent {
  version: 1;
  owner: { pid: number; host: string; startedAt: string };
  servers: Record<string, ServerRecord>;
  sessions: Record<string, SessionRecord>;
  /** Optional: registries written before tasks existed have none. */
  tasks?: Record<string, PersistedTask>;
}

/** Loose validation of a registry read from disk: the shape, not every field. */
export function isRegistryContent(value: unknown): value is RegistryContent {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return record.version === 1 && isObject(record.servers) && isObject(record.sessions) && isObject(record.owner);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
