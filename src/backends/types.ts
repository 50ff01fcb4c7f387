import type { ServerEndpoint } from '../jupyter/endpoint.js';
import type { ServerRecord } from '../state/records.js';
import type { WalltimeEvent, WalltimeStatus } from './slurm/walltime.js';

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
  /** How a later jlab-mcp reaches the server started here (no token: a file name); undefined when none runs. */
  record?(): Omit<ServerRecord, 'profile'> | undefined;
  /** Takes over a server an earlier jlab-mcp left running; undefined when it is gone or does not answer. */
  adopt?(record: ServerRecord, signal: AbortSignal): Promise<ServerEndpoint | undefined>;
  /** Leaves the server running for a later jlab-mcp (exit policy keep): stops watching it, keeps its files. */
  detach?(): Promise<void>;
  /** SLURM: the job's time left and whether its end is near (footers, status); undefined without a job. */
  walltime?(): WalltimeStatus | undefined;
  /** SLURM: told at the walltime warning, when the end is near (with the move to a new job under resubmit), and of an extension's outcome. */
  onWalltime?(listener: (event: WalltimeEvent) => void): void;
}
