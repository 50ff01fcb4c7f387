import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sessionSummary } from './sessionSummary.js';
import { listSessionsOutput } from './outputSchemas.js';
import { suggestedCall } from '../suggestedCall.js';

export function registerListSessions(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_sessions',
    {
      description: 'Open sessions (also those adopted after a restart of jlab-mcp); gone_sessions: those lost, each with the call that resumes it.',
      inputSchema: z.object({}),
      outputSchema: listSessionsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async () => {
      await ctx.sessions.ready();
      const gone = ctx.sessions
        .listGone()
        .map((each) => ({ ...each, resume: suggestedCall('start_session_resume_notebook', { notebook_path: each.notebook_path }) }));
      return jsonResult({ sessions: ctx.sessions.list().map((session) => sessionSummary(ctx, session)), ...(gone.length ? { gone_sessions: gone } : {}) });
    }),
  );
}
