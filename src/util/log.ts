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
  console.error = toStderr('error');
}

function safeInspect(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
