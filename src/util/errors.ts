/**
 * One error type for the whole server. `code` is stable and machine-readable; `hint` tells the
 * agent what to do next; `context` carries ids and stderr tails (never a token — callers pass
 * text through `redactSecrets` before it gets here).
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_SESSION'
  | 'CELL_INDEX_OUT_OF_RANGE'
  | 'CELL_NOT_FOUND'
  | 'NOT_A_CODE_CELL'
  | 'NOT_A_MARKDOWN_CELL'
  | 'PATH_OUTSIDE_NOTEBOOK_DIR'
  | 'NOTEBOOK_NOT_FOUND'
  | 'NOTEBOOK_INVALID'
  | 'NOTEBOOK_WRITE_FAILED'
  | 'NOTEBOOK_BUSY'
  | 'SERVER_START_FAILED'
  | 'JUPYTER_TOKEN_REJECTED'
  | 'JUPYTER_UNREACHABLE'
  | 'SERVER_UNAVAILABLE'
  | 'SERVER_LOST'
  | 'KERNEL_START_FAILED'
  | 'KERNEL_DIED'
  | 'KERNEL_UNAVAILABLE'
  | 'UNKNOWN_KERNEL'
  | 'EXECUTION_FAILED'
  | 'TIMEOUT'
  | 'SHUTTING_DOWN'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

export interface ErrorDetails {
  /** What the agent should do next, in one sentence. */
  hint?: string;
  /** Ids, paths and stderr tails that help a person debug. */
  context?: Record<string, string | number | boolean | undefined>;
  cause?: unknown;
}

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
