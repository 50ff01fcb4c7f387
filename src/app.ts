import path from 'node:path';
import type { McpServer } from '@modelcontextprotocol/server';
import { makeBackendFactory } from './backends/factory.js';
import { chooseRunMode, type RunMode } from './config/load.js';
import type { Config } from './config/settings.js';
import type { ToolContext } from './mcp/context.js';
import { createMcpServer } from './mcp/createServer.js';
import { taskRunnerFor } from './mcp/tasks/fromConfig.js';
import { knownToolNames } from './mcp/tools/index.js';
import { selectTools } from './mcp/tools/toolProfile.js';
import type { TaskRunner } from './mcp/tasks/taskRunner.js';
import { WalltimeNotices } from './mcp/walltimeNotices.js';
import { flushPendingFsyncs } from './notebook/atomicWrite.js';
import { schedulePrestart, type ClientActivity } from './sessions/prestart.js';
import { reattach } from './sessions/reattach.js';
import { RegistrySync } from './sessions/registrySync.js';
import { ServerPool } from './sessions/serverPool.js';
import { SessionManager, type SessionManagerOptions } from './sessions/sessionManager.js';
import { SessionRegistry } from './state/registry.js';
import { defaultStateDir } from './state/stateDir.js';
import { sweepExecutors } from './sweeps/executors.js';
import { SweepManager } from './sweeps/sweepManager.js';
import os from 'node:os';
import { messageOf } from './util/errors.js';
import { log } from './util/log.js';

/** Progress notifications while a call waits: well inside the 5 s the issue asks for. */
const PROGRESS_INTERVAL_MS = 2_000;

export interface AppOptions {
  /** The version the MCP servers announce. */
  version: string;
  /**
   * Keep the session registry in the state directory, so sessions outlive this process.
   * Default true; false for a server that leaves nothing behind (the in-process test server).
   */
  registry?: boolean;
}

/** jlab-mcp's parts, built once from the settings: what the stdio/HTTP entry and the in-process test server share. */
export interface App {
  readonly config: Config;
  readonly mode: RunMode;
  /** Why this run mode, for the log and the status resource. */
  readonly modeReason: string;
  /** The state directory (the registry, the HTTP token file): the setting, else the notebook directory's own under ~/.local/state. */
  readonly stateDir: string;
  readonly servers: ServerPool;
  readonly sessions: SessionManager;
  /** What every tool handler gets. */
  readonly toolContext: ToolContext;
  /** MCP tasks, when the settings and the SDK allow them. */
  readonly tasks: TaskRunner | undefined;
  /** The SLURM walltime warnings and moves, acted on once for every MCP server. */
  readonly walltime: WalltimeNotices;
  /** A configured MCP server over these sessions; `perRequest`: one that lives for one HTTP request (hears no walltime notices). */
  createMcpServer(options?: { perRequest?: boolean }): McpServer;
  /**
   * The client stays: adopts what an earlier jlab-mcp left, then starts the default server
   * (a SLURM job only once the client stays or calls a tool: prestart.ts). Returns what
   * watches the client's messages for that.
   */
  begin(): ClientActivity;
  /** Ends everything as the exit policy says (stop, or keep for a later jlab-mcp) and writes the registry. Never throws. */
  shutdown(): Promise<void>;
}

/** Builds the application from the settings (notebookDir already absolute and real). */
export async function createApp(config: Config, options: AppOptions): Promise<App> {
  const { mode, reason } = chooseRunMode(config);
  const servers = new ServerPool(await makeBackendFactory(config, mode), reason);
  const sessions = new SessionManager(servers, sessionManagerOptions(config));
  const stateDir = config.stateDir ? path.resolve(config.stateDir) : defaultStateDir(config.notebookDir);
  const registry = options.registry === false ? undefined : await openRegistry(stateDir);
  const executors = await sweepExecutors(config, mode, servers);
  const sweeps = new SweepManager({
    notebookDir: config.notebookDir,
    maxRuns: config.sweepMaxRuns,
    kind: mode,
    defaultMaxConcurrent: os.availableParallelism(),
    defaultKernel: config.defaultKernel,
    registry,
    executorFor: executors.executorFor,
  });
  const toolContext = toolContextOf(config, sessions, sweeps);
  // A wrong JLAB_MCP_TOOLS stops the start with the known names (the process exits; nothing was started yet).
  const tools = selectTools(config.tools, knownToolNames(toolContext));
  const sync = registry ? new RegistrySync(registry) : undefined;
  if (sync) sessions.useRegistry(sync);
  // MCP tasks (src/mcp/tasks/), their records next to the sessions' in the registry.
  const tasks = taskRunnerFor(config, registry);
  const walltime = new WalltimeNotices(sessions, { resumeCellTimeoutMs: toolContext.resumeCellTimeoutMs });

  return {
    config,
    mode,
    modeReason: reason,
    stateDir,
    servers,
    sessions,
    toolContext,
    tasks,
    walltime,
    createMcpServer: ({ perRequest = false } = {}) =>
      createMcpServer(toolContext, options.version, { tasks, walltime: perRequest ? undefined : walltime, tools }),
    begin() {
      // Adopt what an earlier jlab-mcp left before starting a server of our own; tool calls wait for it.
      const reattached = sessions.reattachWith(async () => {
        if (registry) await reattach(sessions, registry);
      });
      return schedulePrestart(mode, config.prestartDelay * 1000, () => void reattached.finally(() => servers.get().startInBackground()));
    },
    async shutdown() {
      try {
        // Before the servers stop: local sweep runs end ("jlab-mcp exited") and their kernels go; SLURM sweeps are never touched.
        await sweeps.shutdown(executors.shutdown);
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
      } catch (error) {
        log.error(`during shutdown: ${messageOf(error)}`);
      }
    },
  };
}

/** The settings, in the units and shapes the session manager takes (seconds → ms). */
function sessionManagerOptions(config: Config): SessionManagerOptions {
  return {
    notebookDir: config.notebookDir,
    kernelStartTimeoutMs: config.kernelStartTimeout * 1000,
    defaultKernel: config.defaultKernel,
    outputLimit: config.notebookOutputLimit,
    stdinAnswer: config.stdinAnswer,
    session: {
      saveIntervalMs: config.saveInterval * 1000,
      interruptGraceMs: config.interruptGrace * 1000,
      restartIgnoredInterrupt: config.interruptEscalation === 'restart',
    },
  };
}

/** What every tool handler gets, from the settings. */
function toolContextOf(config: Config, sessions: SessionManager, sweeps: SweepManager): ToolContext {
  return {
    sessions,
    sweeps,
    budget: {
      textBudget: config.outputBudget,
      maxImages: config.maxImages,
      imageLimits: { maxEdge: config.imageMaxEdge, maxBytes: config.imageMaxBytes, maxPixels: config.imageMaxPixels },
    },
    execTimeoutMs: config.execTimeout * 1000,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    resumeCellTimeoutMs: config.resumeCellTimeout * 1000,
  };
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
