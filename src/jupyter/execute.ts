import type { KernelMessage } from '@jupyterlab/services';
import type { KernelHandle, KernelLoss } from './kernel.js';

/** How an execute request ended. Never a thrown error: every ending is a value. */
export type ExecutionEnd =
  | { kind: 'ok' | 'error'; executionCount: number | null }
  | { kind: 'aborted'; executionCount: number | null }
  | { kind: 'lost'; loss: KernelLoss };

/**
 * Sends `code` to the kernel and resolves when the kernel is done with it — execute_reply
 * plus idle, as @jupyterlab/services defines done — or when the kernel dies or the server
 * goes away. Every iopub message for this request is handed to `onIOPub` in arrival order.
 */
export function executeOnKernel(
  kernel: KernelHandle,
  code: string,
  onIOPub: (message: KernelMessage.IIOPubMessage) => void,
): { end: Promise<ExecutionEnd>; msgId: string } {
  const future = kernel.requestExecute(code);
  future.onIOPub = onIOPub;
  const msgId = future.msg.header.msg_id;
  const end = new Promise<ExecutionEnd>((resolve) => {
    const unsubscribe = kernel.onLoss((loss) => {
      unsubscribe();
      resolve({ kind: 'lost', loss });
    });
    future.done.then(
      (reply) => {
        unsubscribe();
        const content = reply.content;
        const executionCount = 'execution_count' in content ? (content.execution_count ?? null) : null;
        resolve({ kind: content.status === 'ok' ? 'ok' : content.status === 'aborted' ? 'aborted' : 'error', executionCount });
      },
      () => {
        // The future is cancelled when the kernel restarts or the connection is disposed;
        // the loss listener has (or will have) the reason.
        setTimeout(() => {
          unsubscribe();
          resolve({ kind: 'lost', loss: kernel.status === 'dead' || kernel.restarts > 0 ? 'died' : 'disconnected' });
        }, 0);
      },
    );
  });
  return { end, msgId };
}
