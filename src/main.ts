import { mkdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { writeSync } from 'node:fs';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { makeBackendFactory } from './backends/factory.js';
import { chooseRunMode, helpText, loadConfig, parseArgs } from './config/load.js';
import { createMcpServer } from './mcp/createServer.js';
import { serveOverStdio } from './mcp/serveOverStdio.js';
import { serveHttp } from './mcp/http/serveHttp.js';
import { actOnWalltime } from './mcp/walltimeNotices.js';
import { taskRunnerFor } from './mcp/tasks/fromConfig.js';
import { flushPendingFsyncs } from './notebook/atomicWrite.js';
import { reattach } from './sessions/reattach.js';
import { RegistrySync } from './sessions/registrySync.js';
import { schedulePrestart, type ClientActivity } from './sessions/prestart.js';
import { ServerPool } from './sessions/serverPool.js';
import { SessionRegistry } from './state/registry.js';
import { defaultStateDir } from './state/stateDir.js';
import { SessionManager } from './sessions/sessionManager.js';
import { sessionManagerOptions, toolContext } from './wiring.js';
import { JlabError, messageOf } from './util/errors.js';
import { guardStdout, log, setLogLevel } from './util/log.js';

const SHUTDOWN_DEADLINE_MS = 20_000;
/** Progress notifications while a call waits: well inside the 5 s the issue asks for. */
const PROGRESS_INTERVAL_MS = 2_000;

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

  const stateDir = config.stateDir ? path.resolve(config.stateDir) : defaultStateDir(config.notebookDir);
  const { mode, reason } = chooseRunMode(config);
  const servers = new ServerPool(await makeBackendFactory(config, mode), reason);
  const sessions = new SessionManager(servers, sessionManagerOptions(config));
  const toolCtx = toolContext(config, sessions, PROGRESS_INTERVAL_MS);
  let connection: { close(): Promise<void> } | undefined;
  log.info(`jlab-mcp ${version}: ${mode} backend (${reason}); notebooks in ${config.notebookDir}; state in ${stateDir}; on exit: ${config.onExit}`);
  const registry = await openRegistry(stateDir);
  const sync = registry ? new RegistrySync(registry) : undefined;
  if (sync) sessions.useRegistry(sync);
  // MCP tasks (src/mcp/tasks/), their records next to the sessions' in the registry.
  const tasks = taskRunnerFor(config, registry);
  // Nothing stateful happens before the client says more than `server/discover`: an SDK client
  // negotiating the protocol era may run a throwaway copy of us that sees only that probe, and
  // that copy must neither adopt (and on exit stop) what an earlier jlab-mcp left nor start a server.
  let client: ClientActivity | undefined;
  const begin = (): ClientActivity => {
    // Adopt what an earlier jlab-mcp left before starting a server of our own; tool calls wait for it.
    const reattached = sessions.reattachWith(async () => {
      if (registry) await reattach(sessions, registry);
    });
    // A SLURM job only once the client stays (or calls a tool): see prestart.ts.
    return schedulePrestart(mode, config.prestartDelay * 1000, () => void reattached.finally(() => servers.get().startInBackground()));
  };
  const observe = (message: JSONRPCMessage) => {
    if (!client && 'method' in message && message.method === 'server/discover') return;
    (client ??= begin()).observe(message);
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
      try {
        if (config.onExit === 'keep') {
          await sessions.detachAll();
          await flushPendingFsyncs();
          await servers.detach();
        } else {
          await sessions.shutdownAll();
          await flushPendingFsyncs();
          await servers.stop();
          sync?.serversStopped(servers);
        }
        await sync?.flush(true);
        await connection?.close().catch(() => {});
      } catch (error) {
        log.error(`during shutdown: ${messageOf(error)}`);
      }
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
    // One MCP server per HTTP client connection, all over these sessions (README: Serve over HTTP).
    const build = (options: { walltime: boolean }) => createMcpServer(toolCtx, version, tasks, options);
    // Walltime saves and moves happen even when only per-request clients (no watching server) come.
    actOnWalltime(toolCtx);
    // A listener lives on past any one client: begin at once (its messages still drive the prestart).
    client = begin();
    connection = await serveHttp(config, stateDir, build, { observe: (message) => client?.observe(message) }).catch((error: unknown) => {
      log.error(error instanceof JlabError && error.hint ? `${error.message} ${error.hint}` : messageOf(error));
      return void shutdown('cannot serve HTTP', 2);
    });
    return;
  }
  // Both protocol eras (2026-07-28 carries the tasks extension).
  connection = serveOverStdio(() => createMcpServer(toolCtx, version, tasks), {
    observe,
    onClose: () => void shutdown('transport closed'),
  });
}

/** The session registry, or none (logged) when the state directory cannot be used: sessions then just do not outlive us. */
async function openRegistry(dir: string): Promise<SessionRegistry | undefined> {
  try {
    return await SessionRegistry.open(dir);
  } catch (error) {
    log.warn(`the state directory ${dir} cannot be used (${messageOf(error)}); sessions will not outlive this jlab-mcp`);
    return undefined;
  }
}

export function reportFatal(error: unknown): never {
  const text = error instanceof JlabError ? `${error.message}${error.hint ? `\n${error.hint}` : ''}` : messageOf(error);
  process.stderr.write(`jlab-mcp: ${text}\n`);
  process.exit(2);
}
