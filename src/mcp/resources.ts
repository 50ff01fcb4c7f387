import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import { JlabError } from '../util/errors.js';
import { redactSecrets } from '../util/secrets.js';
import { CELL_OUTPUT_TEMPLATE, offsetOf, readCellOutput } from './cellOutput.js';
import type { ToolContext } from './context.js';

export const STATUS_URI = 'jlab-mcp://server/status';

/** Server status (backend, URL without token, sessions) and each session's notebook. */
export function registerResources(server: McpServer, ctx: ToolContext): void {
  server.registerResource(
    'server-status',
    STATUS_URI,
    {
      title: 'jlab-mcp server status',
      description: 'Backend, Jupyter server URL (no token), sessions with kernel state and notebook path.',
      mimeType: 'application/json',
    },
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
  registerCellOutput(server, ctx);
}

/**
 * A cell's full output, page by page (cellOutput.ts). Two templates, since the SDK's matcher
 * needs a `{?offset}` query to be present: the bare URI is the first page.
 */
function registerCellOutput(server: McpServer, ctx: ToolContext): void {
  const read = async (uri: URL, variables: Record<string, string | string[]>) => {
    try {
      const session = ctx.sessions.get(uriPart(variables.session_id, 'session id'));
      const page = readCellOutput(session, uriPart(variables.cell_id, 'cell id'), offsetOf(uri), ctx.budget.textBudget);
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: page.text, _meta: { 'jlab-mcp/page': page.meta } }] };
    } catch (error) {
      // A resource read fails as a protocol error, which carries a message only: the code and the next step go in it.
      if (!(error instanceof JlabError)) throw error;
      throw new Error(redactSecrets(`Error [${error.code}]: ${error.message}${error.hint ? ` Next step: ${error.hint}` : ''}`));
    }
  };
  const metadata = {
    title: 'Cell output',
    description:
      "A cell's whole output as text (as execute_code returns it, without the budget), one output budget per page; ?offset=N starts at character N and each page's last line names the next. Cell results link it when their output was cut.",
    mimeType: 'text/plain',
  };
  server.registerResource('cell-output', new ResourceTemplate(CELL_OUTPUT_TEMPLATE, { list: undefined }), metadata, read);
  server.registerResource('cell-output-page', new ResourceTemplate(`${CELL_OUTPUT_TEMPLATE}{?offset}`, { list: undefined }), metadata, read);
}

/** A percent-encoded part of a resource URI; a malformed escape (`%E0`) is INVALID_ARGUMENT, not a bare "URI malformed". */
function uriPart(value: string | string[] | undefined, what: string): string {
  try {
    return decodeURIComponent(String(value));
  } catch {
    throw new JlabError('INVALID_ARGUMENT', `The ${what} in the URI is not valid percent-encoding: "${String(value)}".`, {
      hint: 'Use the output_uri a cell result returned, as it is.',
    });
  }
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
      kernel_name: session.kernel.spec.name,
      kernel_id: session.kernel.id,
      profile: session.supervisor.profile,
      kernel_state: session.lost ? 'lost' : session.kernel.status,
      connection: session.kernel.connectionStatus,
      busy: session.current !== undefined,
      // A scratch run is busy but no cell.
      running: session.current?.run && !session.current.scratch ? { id: session.current.run.cell.id, index: session.current.run.cellIndex } : null,
      queued_cells: session.queued.length,
      notebook_path: session.notebookPath,
      cells: session.notebook.cells.length,
      last_activity: new Date(session.lastActivity).toISOString(),
      // SLURM: time left on the session's job, and whether its end is near (notebooks saved, sessions ending or moving).
      walltime: session.supervisor.backend.walltime?.status(),
    })),
  };
}
