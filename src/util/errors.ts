import type { ErrorCode } from './errorCodes.js';

export type { ErrorCode } from './errorCodes.js';

export interface ErrorDetails {
  /** What the agent should do next, in one sentence. */
  hint?: string;
  /** Ids, paths and stderr tails that help a person debug. */
  context?: Record<string, string | number | boolean | undefined>;
  cause?: unknown;
}

/**
 * One error type for the whole server. `code` is stable and machine-readable; `hint` tells the
 * agent what to do next; `context` carries ids and stderr tails (never a token — callers pass
 * text through `redactSecrets` before it gets here).
 */
export class JlabError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly context: Record<string, string | number | boolean | undefined>;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'JlabError';
    this.code = code;
    this.hint = details.hint;
    this.context = details.context ?? {};
  }
}

/** The message of anything thrown, without stack. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
