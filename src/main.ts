import { mkdir, readFile, realpath } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { createApp } from './app.js';
import { helpText, loadConfig, parseArgs } from './config/load.js';
import { serveOverStdio } from './mcp/serveOverStdio.js';
import { serveHttp } from './mcp/http/serveHttp.js';
import type { ClientActivity } from './sessions/prestart.js';
import { JlabError, messageOf } from './util/errors.js';
import { guardStdout, log, setLogLevel } from './util/log.js';

const SHUTDOWN_DEADLINE_MS = 20_000;

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Entry point of the `jlab-mcp` binary: a stdio MCP server. */
export async function main(argv: string[]): Promise<void> {
  guardStdout();
  const version = await packageVersion();
  const args = parseArgs(argv);
  if (args.help || args.version) {
    // Not serving MCP: printing to stdout is what the user asked for.
    writeSync(1, `${args.help ? helpText(version) : version}\n`);
    return;
  }
  const config = loadConfig(args);
  setLogLevel(config.logLevel);
  await mkdir(config.notebookDir, { recursive: true });
  config.notebookDir = await realpath(config.notebookDir);

  const app = await createApp(config, { version });
  const { stateDir } = app;
  let connection: { close(): Promise<void> } | undefined;
  log.info(`jlab-mcp ${version}: ${app.mode} backend (${app.modeReason}); notebooks in ${config.notebookDir}; state in ${stateDir}; on exit: ${config.onExit}`);
  // Nothing stateful happens before the client says more than `server/discover`: an SDK client
  // negotiating the protocol era may run a throwaway copy of us that sees only that probe, and
  // that copy must neither adopt (and on exit stop) what an earlier jlab-mcp left nor start a server.
  let client: ClientActivity | undefined;
  const observe = (message: JSONRPCMessage) => {
    if (!client && 'method' in message && message.method === 'server/discover') return;
    (client ??= app.begin()).observe(message);
  };

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string, exitCode = 0) => {
    stopping ??= (async () => {
      log.info(`shutting down (${why})`);
      client?.cancel();
      const force = setTimeout(() => {
        log.error('shutdown took too long; exiting');
        process.exit(exitCode || 1);
      }, SHUTDOWN_DEADLINE_MS);
      force.unref();
      await app.shutdown();
      await connection?.close().catch(() => {});
      process.exit(exitCode);
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // Over HTTP stdin carries nothing (it may be /dev/null): only signals end us.
  if (!config.http) {
    process.stdin.on('end', () => void shutdown('stdin closed'));
    process.stdin.on('close', () => void shutdown('stdin closed'));
  }
  process.on('uncaughtException', (error) => {
    log.error(`uncaught: ${error.stack ?? error.message}`);
    void shutdown('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${messageOf(reason)}`));

  if (config.http) {
    // One MCP server per HTTP client connection, all over these sessions (docs/http.md).
    const build = (options: { walltime: boolean }) => app.createMcpServer({ perRequest: !options.walltime });
    // A listener lives on past any one client: begin at once (its messages still drive the prestart).
    client = app.begin();
    connection = await serveHttp(config, stateDir, build, { observe: (message) => client?.observe(message) }).catch((error: unknown) => {
      log.error(error instanceof JlabError && error.hint ? `${error.message} ${error.hint}` : messageOf(error));
      return void shutdown('cannot serve HTTP', 2);
    });
    return;
  }
  // Both protocol eras (2026-07-28 carries the tasks extension).
  connection = serveOverStdio(() => app.createMcpServer(), {
    observe,
    onClose: () => void shutdown('transport closed'),
  });
}

export function reportFatal(error: unknown): never {
  const text = error instanceof JlabError ? `${error.message}${error.hint ? `\n${error.hint}` : ''}` : messageOf(error);
  process.stderr.write(`jlab-mcp: ${text}\n`);
  process.exit(2);
}
