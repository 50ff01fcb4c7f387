import type { Config } from './config/settings.js';
import type { ToolContext } from './mcp/context.js';
import type { SessionManager, SessionManagerOptions } from './sessions/sessionManager.js';

/** The settings, in the units and shapes the session manager takes (seconds → ms). */
export function sessionManagerOptions(config: Config): SessionManagerOptions {
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
export function toolContext(config: Config, sessions: SessionManager, progressIntervalMs: number): ToolContext {
  return {
    sessions,
    budget: {
      textBudget: config.outputBudget,
      maxImages: config.maxImages,
      imageLimits: { maxEdge: config.imageMaxEdge, maxBytes: config.imageMaxBytes, maxPixels: config.imageMaxPixels },
    },
    execTimeoutMs: config.execTimeout * 1000,
    progressIntervalMs,
    resumeCellTimeoutMs: config.resumeCellTimeout * 1000,
  };
}
