import { KernelHandle } from '../jupyter/kernel.js';
import type { ManagedKernel } from '../jupyter/managedKernel.js';
import type { JupyterRestClient } from '../jupyter/restClient.js';
import { recordSessionEnvironment } from './environmentRecord.js';
import type { ProvenanceTracker } from './provenanceTracker.js';
import type { Session } from './session.js';

/**
 * Where the session manager's kernels come from: started anew or adopted on a Jupyter server,
 * and what is put on record about each session's kernel. The real one ({@link kernelHandleStarter})
 * opens `KernelHandle`s; the unit tests give the manager scripted fakes.
 */
export interface KernelStarter<K extends ManagedKernel> {
  /**
   * Starts a kernel of kernelspec `name` (the server's default when undefined) and resolves once
   * it answered kernel_info, within `timeoutMs`; rejects with a JlabError (KERNEL_START_FAILED).
   * `stdinAnswer` is what input() in its cells gets (undefined: input() fails at once).
   */
  start(rest: JupyterRestClient, name: string | undefined, timeoutMs: number, stdinAnswer: string | undefined): Promise<K>;
  /**
   * Connects to kernel `kernelId` an earlier jlab-mcp started, within `timeoutMs`, taking its
   * language from the notebook (`languageInfo`); undefined when the server no longer has it.
   */
  adopt(
    rest: JupyterRestClient,
    kernelId: string,
    timeoutMs: number,
    stdinAnswer: string | undefined,
    languageInfo: Record<string, unknown> | undefined,
  ): Promise<K | undefined>;
  /** Puts the environment of the session's (new, with `again`) kernel on record; never throws. */
  recordEnvironment(session: Session<K>, provenance: ProvenanceTracker, options: { again?: boolean }): void;
}

/** Real kernels: @jupyterlab/services connections, their environment probed in the kernel. */
export const kernelHandleStarter: KernelStarter<KernelHandle> = {
  start: (rest, name, timeoutMs, stdinAnswer) => KernelHandle.start(rest, name, timeoutMs, stdinAnswer),
  adopt: (rest, kernelId, timeoutMs, stdinAnswer, languageInfo) => KernelHandle.adopt(rest, kernelId, timeoutMs, stdinAnswer, languageInfo),
  recordEnvironment: recordSessionEnvironment,
};
