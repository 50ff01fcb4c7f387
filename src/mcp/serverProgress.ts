import type { ServerContext } from '@modelcontextprotocol/server';
import type { ServerSupervisor } from '../sessions/serverSupervisor.js';
import { redactSecrets } from '../util/secrets.js';

/**
 * Runs `task` (a session start) while telling the client, through MCP progress notifications,
 * what the server is doing — e.g. "SLURM job 12 pending (Resources) for 40 s" — so a long
 * queue wait neither looks like a hang nor runs into the client's request timeout.
 */
export async function withServerProgress<T>(ctx: ServerContext, supervisor: ServerSupervisor, intervalMs: number, task: () => Promise<T>): Promise<T> {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return task();
  const started = Date.now();
  const report = () => {
    const status = supervisor.describe();
    const backend = status.backend as { summary?: unknown };
    const what = typeof backend.summary === 'string' ? backend.summary : `Jupyter server ${String(status.state)}`;
    const elapsed = (Date.now() - started) / 1000;
    ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, progress: elapsed, message: redactSecrets(`${what} · starting the session for ${Math.round(elapsed)} s`) } })
      .catch(() => {});
  };
  // Say at once when there is a wait ahead (no server yet: a job to queue, a server to start).
  if (supervisor.describe().state !== 'ready') report();
  const timer = setInterval(report, intervalMs);
  timer.unref();
  try {
    return await task();
  } finally {
    clearInterval(timer);
  }
}
