/** How a polling loop's delay grows. */
export interface BackoffOptions {
  /** Delay before the first retry (attempt 0), in ms. */
  initialMs: number;
  /** Growth per attempt; default 1.5. */
  factor?: number;
  /** Cap on the delay before jitter, in ms. */
  maxMs: number;
  /** Fraction (0–1) by which the delay is spread either way, so pollers do not stay in step; default 0. */
  jitter?: number;
}

/**
 * The delay before retry number `attempt` (0-based): `initialMs × factor^attempt`, capped at
 * `maxMs`, then spread uniformly by ±`jitter`. Pure: the random source is a parameter.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const factor = options.factor ?? 1.5;
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  const base = Math.min(options.maxMs, options.initialMs * factor ** n);
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
  if (jitter === 0) return base;
  return Math.max(0, base * (1 - jitter + 2 * jitter * random()));
}
