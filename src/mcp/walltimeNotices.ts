import type { McpServer } from '@modelcontextprotocol/server';
import type { WalltimeEvent } from '../backends/slurm/walltime.js';
import { walltimeNote } from '../backends/slurm/walltime.js';
import { moveToNextJob, type MoveResult, type SessionMove } from '../sessions/migrate.js';
import type { ServerSupervisor } from '../sessions/serverSupervisor.js';
import type { Session } from '../sessions/session.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { redactSecrets } from '../util/secrets.js';
import type { SessionManager } from '../sessions/sessionManager.js';
import { replaySummary } from './replayWaiter.js';
import { suggestedCall } from './suggestedCall.js';

/** What the walltime moves need from the settings. */
export interface WalltimeNoticeOptions {
  /** Default cell_timeout of a moved session's replay, in ms. */
  resumeCellTimeoutMs: number;
}

/**
 * Acts on the SLURM walltime events of every server of one session manager: a warning log
 * notification to the clients (and the log) at the threshold and at the end; at the end every
 * notebook on that job is saved, and with the resubmit policy the sessions move to a new job
 * (moveToNextJob). Acted on once however many MCP servers watch (one save, one resubmission):
 * over HTTP the clients of the per-request revision never get a watching server, and their
 * notebooks must still be saved and moved. Every connected server is told; a closed one is dropped.
 */
export class WalltimeNotices {
  /** The MCP servers (one per client connection: several over HTTP) that hear the notices. */
  private readonly audience = new Set<McpServer>();

  constructor(
    private readonly sessions: SessionManager,
    private readonly options: WalltimeNoticeOptions,
  ) {
    sessions.servers.onCreated((supervisor) =>
      supervisor.backend.walltime?.listen((event) => void this.onEvent(supervisor, event).catch((error: unknown) => log.warn(`walltime: ${messageOf(error)}`))),
    );
  }

  /** `server` hears the notices until it closes. */
  watch(server: McpServer): void {
    this.audience.add(server);
    const previous = server.server.onclose;
    server.server.onclose = () => {
      this.audience.delete(server);
      previous?.();
    };
  }

  private async onEvent(supervisor: ServerSupervisor, event: WalltimeEvent): Promise<void> {
    this.notify(event.kind === 'extended' ? 'info' : 'warning', event.message);
    if (event.kind !== 'ending') return;
    const sessions = this.sessions.list().filter((session) => session.supervisor === supervisor);
    await Promise.all(
      sessions.map((session) =>
        session.notebook.flush().catch((error: unknown) => log.warn(`session ${session.id}: save before the walltime: ${messageOf(error)}`)),
      ),
    );
    if (!event.handover) return;
    const result = await moveToNextJob(this.sessions, supervisor, event.jobId, event.handover, {
      replayCellTimeoutMs: this.options.resumeCellTimeoutMs,
      oldCellsGraceMs: Math.max(0, ((event.secondsLeft ?? 60) - 10) * 1000),
    });
    this.notify('warning', moveMessage(result));
    if (result.kind === 'moved') {
      for (const move of result.sessions) supervisor.noteMove(move.session.id, () => moveNote(move, result.fromJob, result.toJob));
    }
  }

  private notify(level: 'info' | 'warning', message: string): void {
    for (const server of this.audience) {
      if (server.isConnected()) server.sendLoggingMessage({ level, logger: 'jlab-mcp', data: redactSecrets(message) }).catch(() => {});
    }
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

/**
 * Lines for the session's next cell footer: its move to a new job (once), edits someone else
 * made to its notebook file (once), and the walltime left once under the threshold, e.g.
 * "job 12: 9 min left".
 */
export function sessionNotes(session: Session<KernelPort>): { walltime?: string; notes: string[] } {
  const notes: string[] = [];
  const move = session.supervisor.takeMoveNote(session.id);
  if (move) notes.push(move);
  notes.push(...session.notebook.takeDiskNotes()); // someone else's edits merged into the notebook, once
  const walltime = walltimeNote(session.supervisor.backend.walltime?.status());
  return { walltime, notes };
}

/** What a moved session's next cell result says about its move (the replay's progress as of then). */
function moveNote(move: SessionMove, fromJob: string, toJob: string): string {
  const { session } = move;
  if (move.error) {
    return `Session ${session.id} could not move to SLURM job ${toJob} before job ${fromJob} reached its walltime: ${move.error}. When it ends, go on with ${suggestedCall('start_session_resume_notebook', { notebook_path: session.notebookPath })}.`;
  }
  const summary = replaySummary(session, move.replay!) as {
    message: string;
    restored_with_errors: Array<{ cell: { index: number }; ename?: string; evalue?: string }> | null;
  };
  const errors = summary.restored_with_errors
    ?.map((error) => `cell ${error.cell.index}${error.ename ? ` (${error.ename}: ${error.evalue ?? ''})` : ''}`)
    .join('; ');
  return `Session ${session.id} moved from SLURM job ${fromJob} (walltime) to job ${toJob}, same session id; its notebook was replayed to restore the variables. ${summary.message}${errors ? ` Cells that failed in the replay: ${errors}.` : ''}`;
}
