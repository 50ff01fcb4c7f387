import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { RunMode } from '../config/load.js';

/** What the client does that decides when the default server starts without being asked. */
export interface ClientActivity {
  /** Every message the client sends (install as the transport's `onmessage`; the SDK calls it first). */
  observe(message: JSONRPCMessage): void;
  /** The client is gone or we are stopping: a start that has not begun never will. */
  cancel(): void;
}

/**
 * When the default server starts on its own, ahead of the first call that needs it.
 *
 * A local (or external) server starts at once: it costs a second of this machine's CPU, is ours
 * alone and ends with us, and the first call then finds it ready. A SLURM job is different: it
 * takes a place in a shared queue, and a client that connects and leaves at once (the health
 * check of `claude mcp list`, which says hello, lists the tools and closes) would submit one
 * every time — on a partition too small for it, one that never starts. So for SLURM the job is
 * submitted only once the client has stayed `delayMs` after its first message, or at its first
 * tool call, whichever comes first; the queue wait still overlaps with the agent's work. A call
 * that needs the server starts it in any case (ServerSupervisor.ready), so this only decides
 * how early.
 */
export function schedulePrestart(mode: RunMode, delayMs: number, start: () => void): ClientActivity {
  if (mode !== 'slurm' || delayMs <= 0) {
    start();
    return { observe: () => {}, cancel: () => {} };
  }
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const settle = (run: boolean) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (run) start();
  };
  return {
    observe(message) {
      if (settled) return;
      if ('method' in message && message.method === 'tools/call') return settle(true);
      if (!timer) {
        timer = setTimeout(() => settle(true), delayMs);
        // Never what keeps the process alive: a client that left lets us exit at once.
        timer.unref();
      }
    },
    cancel: () => settle(false),
  };
}
