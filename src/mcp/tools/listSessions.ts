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
      title: 'List sessions',
      description:
        'List open sessions with their kernel, kernel state and notebook path — including sessions adopted from before a restart of jlab-mcp (same session_id, same kernel) and, under gone_sessions, those that could not come back, with the call that resumes their notebook.',
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
