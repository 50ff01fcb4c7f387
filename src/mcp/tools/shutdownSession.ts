import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sessionId } from './schemas.js';
import { shutdownOutput } from './outputSchemas.js';

export function registerShutdownSession(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'shutdown_session',
    {
      description: "Stop the session's kernel; the notebook stays.",
      inputSchema: z.object({ session_id: sessionId }),
      outputSchema: shutdownOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guarded(async ({ session_id }) => {
      const session = await ctx.sessions.shutdown(session_id);
      return jsonResult({
        session_id: session.id,
        notebook_path: session.notebookPath,
        message: `Session ${session.id} shut down. Notebook saved at ${session.notebookPath}`,
      });
    }),
  );
}
