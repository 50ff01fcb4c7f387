import { McpServer, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { ToolContext } from './context.js';
import { registerResources } from './resources.js';
import { enableTasks } from './tasks/install.js';
import type { TaskRunner } from './tasks/taskRunner.js';
import { registerTools } from './tools/index.js';
import type { WalltimeNotices } from './walltimeNotices.js';

export const SERVER_NAME = 'jlab-mcp';

export interface McpServerOptions {
  /** Opted-in calls may answer with MCP tasks (src/mcp/tasks/). */
  tasks?: TaskRunner;
  /** The server hears the SLURM walltime notices. None for HTTP's per-request servers, which live for one request. */
  walltime?: WalltimeNotices;
  /** The tools to register (JLAB_MCP_TOOLS, from selectTools). Default: every tool. */
  tools?: ReadonlySet<string>;
}

/**
 * A configured MCP server over the given sessions; the caller connects a transport. Protocol
 * 2026-07-28 is listed so that `server/discover` is answered (served over stdio by serveStdio).
 * src/app.ts is the one caller: it holds the task runner and the walltime notices.
 */
export function createMcpServer(ctx: ToolContext, version: string, { tasks, walltime, tools }: McpServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version },
    {
      supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, '2026-07-28'],
      // Log notifications: the SLURM walltime warnings (walltimeNotices.ts).
      capabilities: { logging: {} },
      instructions:
        "Run code in Jupyter kernels. Call start_new_session once, then execute_code with its session_id; every cell is recorded in a .ipynb notebook. Use start_session_resume_notebook to restore a notebook's state after a restart.",
    },
  );
  registerTools(server, ctx, tools);
  registerResources(server, ctx);
  if (tasks) enableTasks(server, ctx, tasks);
  walltime?.watch(server);
  return server;
}
