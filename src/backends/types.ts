import type { ServerEndpoint } from '../jupyter/endpoint.js';

export type BackendKind = 'local' | 'external' | 'slurm';

/**
 * Where Jupyter servers come from. Sessions and tools only see this interface, so a new kind
 * of backend (SLURM) needs no change above it.
 */
export interface JupyterBackend {
  readonly kind: BackendKind;
  /** Starts (or locates) a server and resolves once `/api/status` answers. */
  start(signal: AbortSignal): Promise<ServerEndpoint>;
  /** Stops what `start` started; never throws. Called at exit and before a restart. */
  stop(): Promise<void>;
  /** Resolves to a reason when the server started earlier is known to be gone, else undefined. */
  checkLost(): Promise<string | undefined>;
  /**
   * Registers a listener for the server going away on its own (process exit, job end), so
   * running cells end at once instead of waiting for a websocket timeout. Optional.
   */
  watch?(listener: (reason: string) => void): void;
  /** Facts for the status resource: no tokens. */
  describe(): Record<string, unknown>;
}
