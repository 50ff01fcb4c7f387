import type { ServerContext } from '@modelcontextprotocol/server';
import { redactSecrets } from '../util/secrets.js';

/**
 * Sends MCP progress notifications every `intervalMs` while a call waits, when the client asked
 * for them (a progress token); `message(elapsedSeconds)` says what is going on. Progress is the
 * elapsed time in seconds, since it must grow with every notification. `reportNow` sends one at
 * once, for waits that may end before the first interval. Returns the function that stops it.
 */
export function startProgress(ctx: ServerContext, intervalMs: number, message: (elapsedSeconds: number) => string, reportNow = false): () => void {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return () => {};
  const started = Date.now();
  const report = () => {
    const elapsed = (Date.now() - started) / 1000;
    ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, progress: elapsed, message: redactSecrets(message(elapsed)) } })
      .catch(() => {});
  };
  if (reportNow) report();
  const timer = setInterval(report, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
