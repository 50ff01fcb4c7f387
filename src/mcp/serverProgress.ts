import type { ServerContext } from '@modelcontextprotocol/server';
import type { ServerSupervisor } from '../sessions/serverSupervisor.js';
import { startProgress } from './progress.js';

/**
 * Runs `task` (a session start) while telling the client, through MCP progress notifications,
 * what the server is doing — e.g. "SLURM job 12 pending (Resources) for 40 s" — so a long
 * queue wait neither looks like a hang nor runs into the client's request timeout.
 */
export async function withServerProgress<T>(ctx: ServerContext, supervisor: ServerSupervisor, intervalMs: number, task: () => Promise<T>): Promise<T> {
  const stop = startProgress(
    ctx,
    intervalMs,
    (elapsed) => {
      const status = supervisor.describe();
      const backend = status.backend as { summary?: unknown };
      const what = typeof backend.summary === 'string' ? backend.summary : `Jupyter server ${String(status.state)}`;
      return `${what} · starting the session for ${Math.round(elapsed)} s`;
    },
    // Say at once when there is a wait ahead (no server yet: a job to queue, a server to start).
    supervisor.describe().state !== 'ready',
  );
  try {
    return await task();
  } finally {
    stop();
  }
}
