import { redactSecrets } from './secrets.js';

/**
 * Logging goes to stderr only: in stdio mode stdout carries the MCP protocol.
 * Every line is scrubbed of registered secrets.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
let threshold = order.info;

export function setLogLevel(level: LogLevel): void {
  threshold = order[level];
}

function write(level: LogLevel, message: string): void {
  if (order[level] < threshold || !process.stderr.writable) return;
  process.stderr.write(`[jlab-mcp] ${level}: ${redactSecrets(message)}\n`);
}

export const log = {
  debug: (message: string) => write('debug', message),
  info: (message: string) => write('info', message),
  warn: (message: string) => write('warn', message),
  error: (message: string) => write('error', message),
};

/**
 * Libraries (notably @jupyterlab/services, which uses console.debug) must not print to stdout.
 * Route every console method to our stderr logger.
 */
export function guardStdout(): void {
  // A client that went away closed our stderr too: a lost log line must not become an uncaught
  // EPIPE, whose handler logs, which fails again — a loop that starves the shutdown.
  process.stderr.on('error', () => {});
  const toStderr =
    (level: LogLevel) =>
    (...args: unknown[]) =>
      write(level, args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' '));
  console.log = toStderr('info');
  console.info = toStderr('info');
  console.debug = toStderr('debug');
  console.warn = toStderr('warn');
  console.error = (...args: unknown[]) => {
    // @jupyterlab/services prints the server's Python traceback with every refused request
    // (an unknown kernel name, say) before it throws; the tool's answer already says what went
    // wrong, so the log keeps one line and leaves the traceback to debug.
    const summary = args.length === 1 && typeof args[0] === 'string' ? tracebackSummary(args[0]) : undefined;
    if (!summary) return toStderr('error')(...args);
    write('info', `the Jupyter server refused a request: ${summary} (its traceback at JLAB_MCP_LOG_LEVEL=debug)`);
    write('debug', args[0] as string);
  };
}

/** `NoSuchKernel: No such kernel named x` from a Python traceback; undefined for other text. */
export function tracebackSummary(text: string): string | undefined {
  if (!text.startsWith('Traceback (most recent call last):')) return undefined;
  const last = text.trimEnd().split('\n').pop()!.trim();
  // `jupyter_client.kernelspec.NoSuchKernel: words` → `NoSuchKernel: words`.
  const match = /^([\w.]+)(:.*)?$/.exec(last);
  return match ? `${match[1]!.split('.').pop()}${match[2] ?? ''}` : last;
}

function safeInspect(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
