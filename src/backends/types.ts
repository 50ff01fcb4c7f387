import type { ServerEndpoint } from '../jupyter/endpoint.js';
import type { ExternalDescription } from './external/description.js';
import type { LocalDescription } from './local/description.js';
import type { BackendKind, ServerRecord, ServerRecordOf } from './records.js';
import type { SlurmDescription } from './slurm/format.js';
import type { WalltimeEvent, WalltimeStatus } from './slurm/walltime.js';

export type { BackendKind };

/** What a backend says about itself for the status resource and progress: no tokens. One shape per kind. */
export type BackendDescription = LocalDescription | ExternalDescription | SlurmDescription;

/** A server record as the backend writes it: the pool adds the profile. */
export type RecordBody<R extends ServerRecord = ServerRecord> = R extends ServerRecord ? Omit<R, 'profile'> : never;

/** A backend whose server has a walltime (a SLURM job): its time left and the events near its end. */
export interface WalltimeCapability {
  /** The job's time left and whether its end is near (footers, status); undefined without a job. */
  status(): WalltimeStatus | undefined;
  /** Told at the walltime warning, when the end is near (with the move to a new job under resubmit), and of an extension's outcome. */
  listen(listener: (event: WalltimeEvent) => void): void;
}

/**
 * Where Jupyter servers come from. Sessions and tools only see this interface, so a new kind
 * of backend needs no change above it. `K` is the kind: it fixes the record the backend writes
 * and adopts.
 */
export interface JupyterBackend<K extends BackendKind = BackendKind> {
  readonly kind: K;
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
  describe(): BackendDescription;
  /** How a later jlab-mcp reaches the server started here (no token: a file name); undefined when none runs. */
  record?(): RecordBody<ServerRecordOf<K>> | undefined;
  /** Takes over a server an earlier jlab-mcp left running; undefined when it is gone or does not answer. */
  adopt?(record: ServerRecordOf<K>, signal: AbortSignal): Promise<ServerEndpoint | undefined>;
  /** Leaves the server running for a later jlab-mcp (exit policy keep): stops watching it, keeps its files. */
  detach?(): Promise<void>;
  /** Present when the server has a walltime (SLURM). */
  readonly walltime?: WalltimeCapability;
}
