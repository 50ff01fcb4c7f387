import { pollUntil } from '../../src/util/deadline.js';
import { JlabError } from '../../src/util/errors.js';

export interface WaitOptions {
  /** How long to keep trying, in ms; default 30 000. */
  timeoutMs?: number;
  /** Between tries, in ms; default 100. */
  intervalMs?: number;
  /** Said after `what` when the deadline passes: the state that was last seen. */
  detail?: () => unknown;
}

/**
 * Tries `check` until it gives a value other than undefined or false, and returns it; at the
 * deadline throws "timed out after N s waiting for: <what>: <detail>". An error `check` throws
 * ends the wait at once. The same poller as the server's (`pollUntil`), at a steady interval.
 */
export async function waitUntil<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const interval = options.intervalMs ?? 100;
  try {
    return await pollUntil(
      async () => {
        const value = await check();
        return value === false ? undefined : value;
      },
      { timeoutMs, intervalMs: interval, maxIntervalMs: interval, what },
    );
  } catch (error) {
    if (!(error instanceof JlabError && error.code === 'TIMEOUT')) throw error;
    const detail = await options.detail?.();
    const shown = detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
    throw new WaitTimeout(`timed out after ${timeoutMs / 1000} s waiting for: ${what}${shown}`);
  }
}

/** The deadline of `waitUntil` passed. */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/** `waitUntil` for a caller that carries on either way: true when `check` held in time. */
export function holdsWithin(what: string, check: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<boolean> {
  return waitUntil(what, check, options).then(
    () => true,
    (error: unknown) => {
      if (error instanceof WaitTimeout) return false;
      throw error;
    },
  );
}
