import type { Session } from '../sessions/session.js';
import { JlabError } from '../util/errors.js';
import { runLabel } from '../mcp/scratchReply.js';
import { suggestedCall } from '../mcp/suggestedCall.js';

/** Kernel states in which a silent request would wait or be lost. */
const NOT_READY = new Set(['busy', 'restarting', 'autorestarting', 'terminating', 'dead']);

/**
 * Refuses at once when the session's kernel cannot answer a silent request now. The kernel's
 * shell channel is FIFO: behind a running cell (or a resume's replay, or another client's
 * request) the request would wait until it ends, and the agent would wait with it.
 * @param what names the tool in the message, e.g. "inspect_variables".
 */
export function assertKernelFree(session: Session, what: string): void {
  if (session.lost) {
    throw new JlabError('SERVER_LOST', `Session ${session.id} has no kernel to ask: ${session.lost}`, {
      hint: `Its notebook is intact. ${suggestedCall('start_session_resume_notebook', { notebook_path: session.notebookPath })} brings it back on a new kernel.`,
      context: { sessionId: session.id },
    });
  }
  const wait = suggestedCall('wait_for_cell', { session_id: session.id });
  const running = session.current?.run;
  if (running && !running.finished) {
    const seconds = Math.round((Date.now() - running.startedAt) / 1000);
    throw new JlabError(
      'KERNEL_UNAVAILABLE',
      `The kernel is busy with ${runLabel(running)} (running for ${seconds} s); ${what} would wait behind it, since the kernel answers one request at a time. Try again when it ends.`,
      {
        hint: `${wait} follows the cell to its end; ${suggestedCall('interrupt_kernel', { session_id: session.id })} stops it.`,
        context: { sessionId: session.id, cellIndex: running.cellIndex },
      },
    );
  }
  const replay = session.replay;
  if (replay && !replay.finished) {
    throw new JlabError(
      'KERNEL_UNAVAILABLE',
      `The kernel is busy replaying the notebook (cell ${replay.position} of ${replay.total}); ${what} would wait behind it. Try again when the replay ends.`,
      {
        hint: `${wait} follows the replay to its summary.`,
        context: { sessionId: session.id },
      },
    );
  }
  const status = session.kernel.status;
  // Busy with our own short silent request (the environment on record at start): queue behind it.
  if (NOT_READY.has(status) && !(status === 'busy' && session.supervisor.probes.probing(session.kernel))) {
    const why = status === 'busy' ? "busy with a request that is not one of this session's cells (another client, e.g. JupyterLab in a browser)" : `${status}`;
    throw new JlabError('KERNEL_UNAVAILABLE', `The kernel is ${why}; ${what} would wait behind it. Try again in a moment.`, {
      hint: 'list_sessions shows the kernel state.',
      context: { sessionId: session.id, kernelState: status },
    });
  }
}
