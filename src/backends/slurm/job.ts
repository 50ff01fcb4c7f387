import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import type { SqueueRow } from './parsers.js';

/** Where the backend's one job stands; `summary()` says it in words. */
export type Phase = 'idle' | 'submitting' | 'pending' | 'running' | 'ready' | 'failed' | 'lost' | 'stopped';

/** One submission: its files on the shared filesystem, what Slurm said last, how far the submit got. */
export interface Job {
  dir: string;
  scriptFile: string;
  /** sbatch --output, with `%j` for the job id. */
  logPattern: string;
  connectionFile: string;
  heartbeatFile: string;
  token: string;
  sbatchArgs: string[];
  /** Unique (`jlab-mcp-…-<random hex>`): finds the job when its id was never read back. */
  name: string;
  /** Set once sbatch was run: from then on Slurm may hold a job of this name. */
  handedToSbatch?: boolean;
  /** The submit step in flight (sbatch, and on failure the look-up by name), settled; stop() awaits it. */
  submitting?: Promise<void>;
  /** Kills the sbatch in flight. */
  abortSubmit?: AbortController;
  /** Ids found by name and cancelled (each once). */
  sweptIds: Set<string>;
  id?: string;
  submittedAt?: number;
  row?: SqueueRow;
  checkedAt?: number;
  url?: string;
  /** Where its Jupyter answers (with the token and any certificate fingerprint), once it does. */
  endpoint?: ServerEndpoint;
  /** Kept in the queue after a queue timeout: the next start waits for it again. */
  kept?: boolean;
  cancelled?: boolean;
}
