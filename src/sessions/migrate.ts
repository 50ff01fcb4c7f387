import type { Handover } from '../backends/slurm/walltime.js';
import type { KernelHandle } from '../jupyter/kernel.js';
import { within } from '../util/deadline.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import type { CellTicket } from './cellTicket.js';
import type { Replay } from './replay.js';
import type { ServerSupervisor } from './serverSupervisor.js';
import type { Session } from './session.js';
import type { SessionManager } from './sessionManager.js';

export interface MoveOptions {
  /** cell_timeout of each session's replay on the new job, in ms. */
  replayCellTimeoutMs: number;
  /** How long a cell still running on the old job may take to end before the old job is cancelled, in ms. */
  oldCellsGraceMs: number;
}

/** One session's move: its replay on the new job, or why it stayed behind. */
export interface SessionMove {
  session: Session;
  replay?: Replay;
  error?: string;
}

export type MoveResult =
  | { kind: 'moved'; fromJob: string; toJob: string; sessions: SessionMove[] }
  /** The next job never came up: the sessions stay on the old job until it ends. */
  | { kind: 'failed'; fromJob: string; error: string };

/**
 * The walltime move (JLAB_MCP_ON_WALLTIME=resubmit): the next job is brought up while the old one
 * still runs; it becomes the supervisor's server; every session of the supervisor gets a fresh
 * kernel there (same id, same notebook) and replays its notebook; once the cells still running
 * on the old job have ended (or the grace is over) their kernels are let go and the old job is
 * cancelled. Never throws.
 */
export async function moveToNextJob(
  manager: SessionManager,
  supervisor: ServerSupervisor,
  fromJob: string,
  handover: Handover,
  options: MoveOptions,
): Promise<MoveResult> {
  let endpoint: Awaited<ReturnType<Handover['start']>>;
  try {
    endpoint = await handover.start(new AbortController().signal);
  } catch (error) {
    await handover.abandon().catch(() => {});
    return { kind: 'failed', fromJob, error: messageOf(error) };
  }
  let toJob: string;
  try {
    toJob = handover.commit();
    supervisor.moveTo(endpoint);
  } catch (error) {
    await handover.abandon().catch(() => {});
    return { kind: 'failed', fromJob, error: messageOf(error) };
  }
  const moves: SessionMove[] = [];
  const leftBehind: Array<{ old: KernelHandle; running?: CellTicket }> = [];
  for (const session of manager.list()) {
    if (session.supervisor !== supervisor || session.lost) continue;
    const running = session.current;
    try {
      const old = await manager.moveSession(session, supervisor);
      leftBehind.push({ old, running });
      moves.push({ session, replay: session.startReplay({ cellTimeoutMs: options.replayCellTimeoutMs, stopOnError: false }) });
      log.info(`session ${session.id} moved from SLURM job ${fromJob} to job ${toJob}; replaying ${session.notebookPath}`);
    } catch (error) {
      moves.push({ session, error: messageOf(error) });
      log.warn(`session ${session.id} could not move to SLURM job ${toJob}: ${messageOf(error)}`);
    }
  }
  void retireOld(handover, leftBehind, options.oldCellsGraceMs);
  return { kind: 'moved', fromJob, toJob, sessions: moves };
}

/** Waits (bounded) for the cells still running on the old job, lets their kernels go, cancels the job. */
async function retireOld(handover: Handover, leftBehind: Array<{ old: KernelHandle; running?: CellTicket }>, graceMs: number): Promise<void> {
  await Promise.all(leftBehind.map(({ running }) => (running ? within(running.done, graceMs) : undefined)));
  await Promise.all(leftBehind.map(({ old }) => old.shutdown()));
  await handover.retire().catch((error: unknown) => log.warn(`retiring the old SLURM job: ${messageOf(error)}`));
}
