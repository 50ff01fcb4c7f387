import { McpServer } from '@modelcontextprotocol/server';
import type { ToolContext } from '../context.js';
import { registerAddMarkdown } from './addMarkdown.js';
import { registerClearOutputs } from './clearOutputs.js';
import { registerDeleteCell } from './deleteCell.js';
import { registerEditCell } from './editCell.js';
import { registerEditMarkdown } from './editMarkdown.js';
import { registerExecuteCode } from './executeCode.js';
import { registerInterruptKernel } from './interruptKernel.js';
import { registerRestartKernel } from './restartKernel.js';
import { registerWaitForCell } from './waitForCell.js';
import { registerListKernels } from './listKernels.js';
import { registerListSessions } from './listSessions.js';
import { registerInspectVariables } from './inspectVariables.js';
import { registerKernelResources } from './kernelResources.js';
import { listedAnnotations, listedCompactly } from './compactListing.js';
import { registerListNotebooks } from './listNotebooks.js';
import { registerMoveCell } from './moveCell.js';
import { registerReadNotebook } from './readNotebook.js';
import { registerRunCell } from './runCell.js';
import { registerShutdownSession } from './shutdownSession.js';
import { registerStartNewSession } from './startNewSession.js';
import { registerStartSessionContinueNotebook } from './startSessionContinueNotebook.js';
import { registerStartSessionResumeNotebook } from './startSessionResumeNotebook.js';
import { registerCancelSweep } from './cancelSweep.js';
import { registerListSweeps } from './listSweeps.js';
import { registerRerunSweep } from './rerunSweep.js';
import { registerStartSweep } from './startSweep.js';
import { registerSweepStatus } from './sweepStatus.js';

/**
 * Registers the tools of the profile (`selected`; default every tool), each listed with compact
 * schemas. Tools outside the profile are not registered at all: not listed, not callable.
 */
export function registerTools(server: McpServer, ctx: ToolContext, selected?: ReadonlySet<string>): void {
  registerEach(
    profiledRegistrar(server, (name) => selected === undefined || selected.has(name)),
    ctx,
  );
}

function registerEach(registrar: McpServer, ctx: ToolContext): void {
  for (const register of [
    registerStartNewSession,
    registerStartSessionResumeNotebook,
    registerStartSessionContinueNotebook,
    registerExecuteCode,
    registerEditCell,
    registerRunCell,
    registerWaitForCell,
    registerInterruptKernel,
    registerRestartKernel,
    registerDeleteCell,
    registerMoveCell,
    registerClearOutputs,
    registerAddMarkdown,
    registerEditMarkdown,
    registerShutdownSession,
    registerListSessions,
    registerListKernels,
    registerInspectVariables,
    registerKernelResources,
    registerListNotebooks,
    registerReadNotebook,
    registerStartSweep,
    registerSweepStatus,
    registerCancelSweep,
    registerRerunSweep,
    registerListSweeps,
  ]) {
    register(registrar, ctx);
  }
}

/** The name of every tool the server has, whatever the profile (what JLAB_MCP_TOOLS may name). */
export function knownToolNames(ctx: ToolContext): string[] {
  const probe = new McpServer({ name: 'jlab-mcp-tool-names', version: '0' });
  const names: string[] = [];
  registerEach(
    profiledRegistrar(probe, (name) => {
      names.push(name);
      return false;
    }),
    ctx,
  );
  return names;
}

type RegisterToolArgs = Parameters<McpServer['registerTool']>;

/**
 * The server as the register functions see it: its registerTool skips a tool outside the
 * profile and lists every schema and annotation compactly (compactListing.ts). In this one
 * place, so that a tool file added later gets both without knowing. (A skipped registration
 * returns undefined; no register function uses the returned handle.)
 */
function profiledRegistrar(server: McpServer, keep: (name: string) => boolean): McpServer {
  const registerTool = (name: string, config: RegisterToolArgs[1], handler: RegisterToolArgs[2]) => {
    if (!keep(name)) return undefined;
    const { inputSchema, outputSchema, annotations } = config;
    return server.registerTool(
      name,
      {
        ...config,
        ...(inputSchema ? { inputSchema: listedCompactly(inputSchema, 'input') } : {}),
        ...(outputSchema ? { outputSchema: listedCompactly(outputSchema, 'output') } : {}),
        annotations: listedAnnotations(annotations),
      } as RegisterToolArgs[1],
      handler,
    );
  };
  return new Proxy(server, {
    get: (target, property) => (property === 'registerTool' ? registerTool : Reflect.get(target, property, target)),
  });
}
