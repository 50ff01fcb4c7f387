import type { Job } from './job.js';
import { writeHeartbeat } from './jobFiles.js';

/** How often the heartbeat file is rewritten: a third of the job's timeout, within 1–30 s. */
export function heartbeatEveryMs(timeoutS: number): number {
  return Math.max(1000, Math.min(30_000, Math.floor((timeoutS * 1000) / 3)));
}

/**
 * Rewrites the job's heartbeat file every heartbeatEveryMs(timeoutS) and calls `onTick` after
 * each; returns the function that stops it. The timer does not keep the process alive.
 */
export function startHeartbeat(job: Job, timeoutS: number, onTick: () => void): () => void {
  const timer = setInterval(() => {
    void writeHeartbeat(job);
    onTick();
  }, heartbeatEveryMs(timeoutS));
  timer.unref();
  return () => clearInterval(timer);
}
