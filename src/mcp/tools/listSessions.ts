import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolContext } from '../context.js';
import { guarded, jsonResult } from '../results.js';
import { sessionSummary } from './sessionSummary.js';

export function registerListSessions(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_sessions',
    {
      title: 'List sessions',
      description: 'List open sessions with their kernel, kernel state and notebook path.',
      inputSchema: z.object({}),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded(async () => jsonResult({ sessions: ctx.sessions.list().map((session) => sessionSummary(ctx, session)) })),
  );
}
