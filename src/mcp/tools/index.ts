import type { McpServer } from '@modelcontextprotocol/server';
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

export function registerTools(server: McpServer, ctx: ToolContext): void {
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
    register(server, ctx);
  }
}
