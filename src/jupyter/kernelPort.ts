import type { Kernel, KernelMessage } from '@jupyterlab/services';

/** Why a kernel stopped answering in the middle of something. */
export type KernelLoss = 'died' | 'disconnected';

/**
 * One execute request in flight: its id, the iopub messages it causes, and its reply. `done`
 * resolves with the execute_reply once the kernel also went idle for it (JupyterLab's definition)
 * and rejects when the request is cancelled (the kernel restarted, the connection was disposed).
 */
export interface ExecuteFuture {
  readonly msg: { readonly header: { readonly msg_id: string } };
  /** Handed every iopub message whose parent is this request, in arrival order. */
  onIOPub: (message: KernelMessage.IIOPubMessage) => void;
  readonly done: Promise<KernelMessage.IExecuteReplyMsg>;
  dispose(): void;
}

/**
 * What a session needs of its kernel: run code with streamed messages, interrupt, restart, shut
 * down, and hear of its death or the server's loss. `KernelHandle` is the real one (a
 * @jupyterlab/services connection); the unit tests drive a scripted fake
 * (test/helpers/fakeKernel.ts), as JupyterLab's own tests do with `KernelMock`.
 */
export interface KernelPort {
  readonly id: string;
  /** The kernel's execution state as last reported ('dead' once it died for good or is gone). */
  readonly status: Kernel.Status;
  /** How many times the server restarted this kernel after it died. */
  readonly restarts: number;
  /** True once the server no longer has this kernel (shut down from outside, culled). */
  readonly gone: boolean;
  /** Where the kernel spools each cell's messages, when it does (a followed cell reads it). */
  readonly spoolPath?: string;
  /**
   * Sends an execute request; `stopOnError` asks the kernel to abort requests queued behind it if
   * it fails; `storeHistory` false (a scratch run) leaves the execution count and history alone (default true).
   */
  requestExecute(code: string, stopOnError?: boolean, storeHistory?: boolean): ExecuteFuture;
  /**
   * Subscribes to every iopub message (any request's, a followed one's included), in order, once
   * the connection has handled it; returns the unsubscribe function.
   */
  onIOPubMessage(listener: (message: KernelMessage.IIOPubMessage) => void): () => void;
  /** Subscribes to every message received from the kernel on any channel, on arrival; returns the unsubscribe function. */
  onMessage(listener: (message: KernelMessage.IMessage) => void): () => void;
  /** Asks for kernel_info; on the shell channel it is answered after the requests before it. */
  requestKernelInfo(): Promise<unknown>;
  /** Subscribes to kernel death / server loss; returns the unsubscribe function. */
  onLoss(listener: (loss: KernelLoss) => void): () => void;
  /** Sends an interrupt (SIGINT for ipykernel); rejects on a deadline of its own. */
  interrupt(): Promise<void>;
  /** Restarts the kernel (its state is lost) and resolves once it is connected again. */
  restart(): Promise<void>;
  /** Asks the server to stop the kernel; never throws. */
  shutdown(): Promise<void>;
  /** The server is gone: ends whatever waits on this kernel now, as a lost connection. */
  abandon(): void;
}
