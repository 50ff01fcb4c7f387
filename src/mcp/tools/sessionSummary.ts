import path from 'node:path';
import type { Session } from '../../sessions/session.js';
import type { ToolContext } from '../context.js';

/** The facts about a session that start_* and list_sessions return. */
export function sessionSummary(_ctx: ToolContext, session: Session): Record<string, unknown> {
  const server = session.supervisor.describe();
  return {
    session_id: session.id,
    experiment_name: session.experimentName,
    notebook_path: session.notebookPath,
    kernel_name: session.kernel.spec.name,
    kernel_display_name: session.kernel.spec.display_name,
    language: session.kernel.languageInfo.name,
    kernel_id: session.kernel.id,
    kernel_state: session.lost ? 'lost' : session.kernel.status,
    cells: session.notebook.cells.length,
    backend: (server.backend as { kind?: string }).kind,
    profile: session.supervisor.profile,
  };
}

/** The default experiment_name of a resume or continue: the notebook's file name without .ipynb. */
export function notebookStem(notebookPath: string): string {
  return path.basename(notebookPath).replace(/\.ipynb$/i, '') || 'notebook';
}
