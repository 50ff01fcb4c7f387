import type { KernelMessage } from '@jupyterlab/services';
import type { KernelLoss, KernelPort } from './kernelPort.js';

/**
 * How long after the kernel reported idle for a request its execute_reply may still arrive, in
 * ms. The reply is sent before the idle status, so it is normally already there; a kernel that
 * failed inside its message handler (ipykernel on source with a NUL byte) goes idle and never
 * replies.
 */
const REPLY_AFTER_IDLE_GRACE_MS = 3000;

/** How an execute request ended. Never a thrown error: every ending is a value. */
export type ExecutionEnd =
  | { kind: 'ok' | 'error'; executionCount: number | null }
  | { kind: 'aborted'; executionCount: number | null }
  /** The kernel went idle without replying: it could not handle the request at all. */
  | { kind: 'no_reply' }
  | { kind: 'lost'; loss: KernelLoss };

/**
 * Sends `code` to the kernel and resolves when the kernel is done with it — execute_reply
 * plus idle, as @jupyterlab/services defines done — or when the kernel dies, the server goes
 * away, or the kernel goes idle and never replies. Every iopub message for this request is
 * handed to `onIOPub` in arrival order. `storeHistory` false: a scratch run (no execution count).
 */
export function executeOnKernel(
  kernel: KernelPort,
  code: string,
  onIOPub: (message: KernelMessage.IIOPubMessage) => void,
  stopOnError = false,
  storeHistory = true,
): { end: Promise<ExecutionEnd>; msgId: string } {
  const future = kernel.requestExecute(code, stopOnError, storeHistory);
  const msgId = future.msg.header.msg_id;
  let settle!: (end: ExecutionEnd) => void;
  const end = new Promise<ExecutionEnd>((resolve) => (settle = resolve));
  let settled = false;
  let noReplyTimer: NodeJS.Timeout | undefined;
  const finish = (ending: ExecutionEnd) => {
    if (settled) return;
    settled = true;
    clearTimeout(noReplyTimer);
    unsubscribe();
    settle(ending);
  };
  future.onIOPub = (message) => {
    onIOPub(message);
    if (message.header.msg_type === 'status' && (message.content as { execution_state?: string }).execution_state === 'idle') {
      noReplyTimer ??= setTimeout(() => {
        finish({ kind: 'no_reply' });
        future.dispose();
      }, REPLY_AFTER_IDLE_GRACE_MS);
    }
  };
  const unsubscribe = kernel.onLoss((loss) => finish({ kind: 'lost', loss }));
  future.done.then(
    (reply) => {
      const content = reply.content;
      const executionCount = 'execution_count' in content ? (content.execution_count ?? null) : null;
      finish({ kind: content.status === 'ok' ? 'ok' : content.status === 'aborted' ? 'aborted' : 'error', executionCount });
    },
    () => {
      // The future is cancelled when the kernel restarts or the connection is disposed;
      // the loss listener has (or will have) the reason.
      setTimeout(() => finish({ kind: 'lost', loss: kernel.status === 'dead' || kernel.restarts > 0 ? 'died' : 'disconnected' }), 0);
    },
  );
  return { end, msgId };
}
