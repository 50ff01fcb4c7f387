import { redactSecrets } from './secrets.js';

/** How a run ended when it did not exit 0. */
export type ExecFailureKind = 'exit-code' | 'signal' | 'timed-out' | 'aborted' | 'left-running' | 'not-found' | 'spawn-failed';

export interface ExecFailure {
  argv: readonly string[];
  kind: ExecFailureKind;
  stdout: string;
  stderr: string;
  exitCode?: number;
  signal?: NodeJS.Signals;
  /** For the message: the deadline the run had, in ms. */
  timeoutMs?: number;
  /** The abort signal's reason, when it was aborted. */
  abortReason?: unknown;
  /** The pid of a child left running on abort. */
  pid?: number;
  /** The system's words when it could not be started. */
  detail?: string;
}

/** Lines of stderr an error keeps for its message. */
const TAIL_LINES = 12;

/**
 * A program that did not run to a clean exit: the one error of `exec`, with every field a caller
 * branches on. Its message and `stderrTail` are redacted; `stdout`/`stderr` are the raw output
 * (for parsers), to be redacted before they are shown.
 */
export class ExecError extends Error {
  readonly program: string;
  readonly kind: ExecFailureKind;
  readonly exitCode?: number;
  readonly signal?: NodeJS.Signals;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The last lines of stderr, redacted. */
  readonly stderrTail: string;
  /** What happened in a few words: "exited with code 2", "did not finish within 10 s". */
  readonly why: string;
  readonly pid?: number;

  constructor(failure: ExecFailure) {
    const program = failure.argv[0] ?? '(nothing)';
    const why = whyOf(failure);
    const stderrTail = redactSecrets(
      failure.stderr
        .split('\n')
        .map((line) => line.trimEnd())
        .filter(Boolean)
        .slice(-TAIL_LINES)
        .join('\n'),
    );
    super(
      redactSecrets(`${program} ${why}`) + (stderrTail ? `\n${stderrTail}` : ''),
      failure.abortReason === undefined ? undefined : { cause: failure.abortReason },
    );
    this.name = 'ExecError';
    this.program = program;
    this.kind = failure.kind;
    this.exitCode = failure.exitCode;
    this.signal = failure.signal;
    this.timedOut = failure.kind === 'timed-out';
    this.aborted = failure.kind === 'aborted' || failure.kind === 'left-running';
    this.stdout = failure.stdout;
    this.stderr = failure.stderr;
    this.stderrTail = stderrTail;
    this.why = redactSecrets(why);
    this.pid = failure.pid;
  }
}

function whyOf(failure: ExecFailure): string {
  switch (failure.kind) {
    case 'exit-code':
      return `exited with code ${failure.exitCode}`;
    case 'signal':
      return `was killed by ${failure.signal}`;
    case 'timed-out':
      return `did not finish within ${Math.round((failure.timeoutMs ?? 0) / 100) / 10} s`;
    case 'aborted':
      return 'was stopped';
    case 'left-running':
      return `was left running on its own (pid ${failure.pid})`;
    case 'not-found':
      return 'was not found';
    case 'spawn-failed':
      return `could not be started (${failure.detail})`;
  }
}
