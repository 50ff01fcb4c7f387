import { McpServer } from '@modelcontextprotocol/server';
import type { ToolContext } from './context.js';
import { registerResources } from './resources.js';
import { registerTools } from './tools/index.js';
import { watchWalltime } from './walltimeNotices.js';

export const SERVER_NAME = 'jlab-mcp';

/** A configured MCP server over the given sessions; the caller connects a transport. */
export function createMcpServer(ctx: ToolContext, version: string): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version },
    {
      // Log notifications: the SLURM walltime warnings (walltimeNotices.ts).
      capabilities: { logging: {} },
      instructions:
        'Run code in Jupyter kernels. Call start_new_session once, then execute_code with its session_id; every cell is recorded in a .ipynb notebook. Use start_session_resume_notebook to restore a notebook\'s state after a restart.',
    },
  );
  registerTools(server, ctx);
  registerResources(server, ctx);
  watchWalltime(server, ctx);
  return server;
}
