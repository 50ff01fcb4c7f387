import { JlabError } from './errors.js';

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races `promise` against a deadline of `ms` milliseconds. The loser's timer is always cleared.
 * @param what names the wait in the TIMEOUT error message.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JlabError('TIMEOUT', `${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` until it returns a value other than undefined, with a growing interval
 * (start `intervalMs`, ×1.5, capped at `maxIntervalMs`), until `timeoutMs` has passed.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; maxIntervalMs?: number; what: string; signal?: AbortSignal },
): Promise<T> {
  const started = Date.now();
  let interval = options.intervalMs ?? 50;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const elapsed = Date.now() - started;
    if (elapsed >= options.timeoutMs) {
      throw new JlabError('TIMEOUT', `${options.what} did not happen within ${Math.round(options.timeoutMs / 1000)} s`);
    }
    await sleep(Math.min(interval, options.timeoutMs - elapsed), options.signal);
    interval = Math.min(interval * 1.5, options.maxIntervalMs ?? 1000);
  }
}

/**
 * `promise`'s value if it settles within `ms`, else undefined (a rejection counts as settled
 * with no value). The timer is cleared either way. For waits that must give up quietly.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        () => ({ value: undefined as T }),
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
