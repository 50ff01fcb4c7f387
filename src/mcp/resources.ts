import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import { redactSecrets } from '../util/secrets.js';
import type { ToolContext } from './context.js';

export const STATUS_URI = 'jlab-mcp://server/status';

/** Server status (backend, URL without token, sessions) and each session's notebook. */
export function registerResources(server: McpServer, ctx: ToolContext): void {
  server.registerResource(
    'server-status',
    STATUS_URI,
    { title: 'jlab-mcp server status', description: 'Backend, Jupyter server URL (no token), sessions with kernel state and notebook path.', mimeType: 'application/json' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: redactSecrets(JSON.stringify(statusOf(ctx), null, 2)) }] }),
  );
  server.registerResource(
    'session-notebook',
    new ResourceTemplate('jlab-mcp://sessions/{session_id}/notebook', {
      list: async () => ({
        resources: ctx.sessions.list().map((session) => ({
          uri: `jlab-mcp://sessions/${session.id}/notebook`,
          name: `${session.experimentName} (${session.id})`,
          mimeType: 'application/x-ipynb+json',
        })),
      }),
    }),
    { title: 'Session notebook', description: 'The .ipynb document a session is writing.', mimeType: 'application/x-ipynb+json' },
    async (uri, variables) => {
      const session = ctx.sessions.get(String(variables.session_id));
      return { contents: [{ uri: uri.href, mimeType: 'application/x-ipynb+json', text: session.notebook.serialize() }] };
    },
  );
}

export function statusOf(ctx: ToolContext): Record<string, unknown> {
  return {
    server: ctx.sessions.servers.get().describe(),
    servers: ctx.sessions.servers.describe(),
    notebook_dir: ctx.sessions.notebookDir,
    state: ctx.sessions.describeState(),
    sessions: ctx.sessions.list().map((session) => ({
      session_id: session.id,
      experiment_name: session.experimentName,
      kernel: session.kernel.spec.name,
      kernel_id: session.kernel.id,
      profile: session.supervisor.profile,
      kernel_state: session.lost ? 'lost' : session.kernel.status,
      connection: session.kernel.connectionStatus,
      busy: session.current !== undefined,
      running_cell: session.current?.run?.cellIndex ?? null,
      queued_cells: session.queued.length,
      notebook_path: session.notebookPath,
      cells: session.notebook.cells.length,
      last_activity: new Date(session.lastActivity).toISOString(),
      // SLURM: time left on the session's job, and whether its end is near (notebooks saved, sessions ending or moving).
      walltime: session.supervisor.backend.walltime?.(),
    })),
  };
}
