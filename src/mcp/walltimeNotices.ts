import type { McpServer } from '@modelcontextprotocol/server';
import type { WalltimeEvent } from '../backends/slurm/walltime.js';
import { walltimeNote } from '../backends/slurm/walltime.js';
import { moveToNextJob, type MoveResult } from '../sessions/migrate.js';
import type { Replay } from '../sessions/replay.js';
import type { ServerSupervisor } from '../sessions/serverSupervisor.js';
import type { Session } from '../sessions/session.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { redactSecrets } from '../util/secrets.js';
import type { ToolContext } from './context.js';
import { replaySummary } from './replayWaiter.js';

/** A move the agent has not been told about yet: said once, in the session's next cell result. */
const pendingMoves = new WeakMap<Session<KernelPort>, { fromJob: string; toJob: string; replay?: Replay; error?: string }>();

/** The MCP servers (one per client connection: several over HTTP) that hear the notices, per session manager. */
const audiences = new WeakMap<ToolContext['sessions'], Set<McpServer>>();

/**
 * Acts on the SLURM walltime events of every server: a warning log notification to the clients
 * (and the log) at the threshold and at the end; at the end every notebook on that job is saved,
 * and with the resubmit policy the sessions move to a new job (moveToNextJob). Acted on once
 * per session manager however many servers watch (one save, one resubmission); every connected
 * one is told, and a closed one is dropped.
 */
export function watchWalltime(server: McpServer, ctx: ToolContext): void {
  const servers = actOnWalltime(ctx);
  servers.add(server);
  const previous = server.server.onclose;
  server.server.onclose = () => {
    servers.delete(server);
    previous?.();
  };
}

/**
 * The acting half of watchWalltime, with no one to tell yet: over HTTP the clients of the
 * per-request revision (Claude Code) never get a watching server, and their notebooks must
 * still be saved and moved. Returns the audience that watchWalltime adds to.
 */
export function actOnWalltime(ctx: ToolContext): Set<McpServer> {
  const known = audiences.get(ctx.sessions);
  if (known) return known;
  const servers = new Set<McpServer>();
  audiences.set(ctx.sessions, servers);
  ctx.sessions.servers.onCreated((supervisor) =>
    supervisor.backend.onWalltime?.((event) => void onWalltimeEvent(servers, ctx, supervisor, event).catch((error: unknown) => log.warn(`walltime: ${messageOf(error)}`))),
  );
  return servers;
}

async function onWalltimeEvent(audience: Set<McpServer>, ctx: ToolContext, supervisor: ServerSupervisor, event: WalltimeEvent): Promise<void> {
  notify(audience, event.kind === 'extended' ? 'info' : 'warning', event.message);
  if (event.kind !== 'ending') return;
  const sessions = ctx.sessions.list().filter((session) => session.supervisor === supervisor);
  await Promise.all(sessions.map((session) => session.notebook.flush().catch((error: unknown) => log.warn(`session ${session.id}: save before the walltime: ${messageOf(error)}`))));
  if (!event.handover) return;
  const result = await moveToNextJob(ctx.sessions, supervisor, event.jobId, event.handover, {
    replayCellTimeoutMs: ctx.resumeCellTimeoutMs,
    oldCellsGraceMs: Math.max(0, ((event.secondsLeft ?? 60) - 10) * 1000),
  });
  notify(audience, 'warning', moveMessage(result));
  if (result.kind === 'moved') {
    for (const move of result.sessions) pendingMoves.set(move.session, { fromJob: result.fromJob, toJob: result.toJob, replay: move.replay, error: move.error });
  }
}

function moveMessage(result: MoveResult): string {
  if (result.kind === 'failed') {
    return `The new SLURM job to replace job ${result.fromJob} did not come up: ${result.error}. The sessions stay on job ${result.fromJob} until its walltime; then go on with start_session_resume_notebook.`;
  }
  const moved = result.sessions.filter((move) => !move.error).map((move) => move.session.id);
  const stayed = result.sessions.filter((move) => move.error).map((move) => `${move.session.id} (${move.error})`);
  return `SLURM job ${result.toJob} replaces job ${result.fromJob} (walltime): sessions ${moved.join(', ') || '(none)'} moved with the same ids and replay their notebooks${stayed.length ? `; not moved: ${stayed.join('; ')}` : ''}.`;
}

function notify(audience: Set<McpServer>, level: 'info' | 'warning', message: string): void {
  for (const server of audience) {
    if (server.isConnected()) server.sendLoggingMessage({ level, logger: 'jlab-mcp', data: redactSecrets(message) }).catch(() => {});
  }
}

/**
 * Lines for the session's next cell footer: its move to a new job (once), edits someone else
 * made to its notebook file (once), and the walltime left once under the threshold, e.g.
 * "job 12: 9 min left".
 */
export function sessionNotes(session: Session<KernelPort>): { walltime?: string; notes: string[] } {
  const notes: string[] = [];
  const move = pendingMoves.get(session);
  if (move) {
    pendingMoves.delete(session);
    if (move.error) {
      notes.push(`Session ${session.id} could not move to SLURM job ${move.toJob} before job ${move.fromJob} reached its walltime: ${move.error}. When it ends, go on with start_session_resume_notebook(notebook_path="${session.notebookPath}").`);
    } else if (move.replay) {
      const summary = replaySummary(session, move.replay) as { message: string; restored_with_errors: Array<{ cell_index: number; ename?: string; evalue?: string }> | null };
      const errors = summary.restored_with_errors?.map((error) => `cell ${error.cell_index}${error.ename ? ` (${error.ename}: ${error.evalue ?? ''})` : ''}`).join('; ');
      notes.push(`Session ${session.id} moved from SLURM job ${move.fromJob} (walltime) to job ${move.toJob}, same session id; its notebook was replayed to restore the variables. ${summary.message}${errors ? ` Cells that failed in the replay: ${errors}.` : ''}`);
    }
  }
  notes.push(...session.notebook.takeDiskNotes()); // someone else's edits merged into the notebook, once
  const walltime = walltimeNote(session.supervisor.backend.walltime?.());
  return { walltime, notes };
}
