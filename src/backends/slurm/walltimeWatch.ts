import { log } from '../../util/log.js';
import { scontrolExtend } from './commands.js';
import type { Job } from './job.js';
import { formatLeft, type Handover, type WalltimeEvent, type WalltimeEventKind, type WalltimeSettings, type WalltimeStatus } from './walltime.js';
import { WalltimeMonitor } from './walltimeMonitor.js';

export interface WalltimeHooks {
  /** squeue for the job (its row and time left), e.g. after an extension. */
  refresh(job: Job): Promise<void>;
  /** The move to a new job (resubmit policy). */
  successor(): Handover;
}

/**
 * The walltime side of the backend: one monitor for the job it runs now, the extension attempt
 * when the end is near (JLAB_MCP_WALLTIME_EXTEND), and the events for whoever listens (the MCP
 * layer tells the agent, saves notebooks, moves sessions).
 */
export class WalltimeWatch {
  private monitor?: WalltimeMonitor;
  private readonly listeners = new Set<(event: WalltimeEvent) => void>();
  /** Jobs whose extension Slurm refused: not asked again. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly settings: WalltimeSettings,
    /** Seconds before the end at which Slurm signals the job (signalLeadSeconds). */
    private readonly leadS: number,
    private readonly commandTimeoutMs: number,
    private readonly hooks: WalltimeHooks,
  ) {}

  listen(listener: (event: WalltimeEvent) => void): void {
    this.listeners.add(listener);
  }

  /** Watches `job` from now on (a started, adopted or successor job). */
  follow(job: Job): void {
    this.monitor?.stop();
    const monitor = new WalltimeMonitor(job, { warningS: this.settings.warningS, leadS: this.leadS, policy: this.settings.policy }, (kind) => {
      if (this.monitor === monitor) void this.handle(job, monitor, kind).catch((error: unknown) => log.warn(`SLURM walltime: ${String(error)}`));
    });
    this.monitor = monitor;
    monitor.start();
  }

  status(): WalltimeStatus | undefined {
    return this.monitor?.status();
  }

  stop(): void {
    this.monitor?.stop();
    this.monitor = undefined;
  }

  /** Exit with the keep policy: nothing is watched; the job's signal file stays for a later jlab-mcp. */
  detach(): void {
    this.stop();
  }

  private emit(event: WalltimeEvent): void {
    const line = `SLURM walltime: ${event.message}`;
    if (event.kind === 'extended') log.info(line);
    else log.warn(line);
    for (const listener of [...this.listeners]) listener(event);
  }

  private async handle(job: Job, monitor: WalltimeMonitor, kind: WalltimeEventKind): Promise<void> {
    const id = job.id ?? '?';
    const { policy, extendMinutes } = this.settings;
    const left = monitor.status().secondsLeft;
    const base = { jobId: id, secondsLeft: left, policy };
    const when = left === undefined ? 'soon' : `in about ${formatLeft(left).replace(' left', '')}`;
    if (kind === 'warning') {
      const next =
        policy === 'resubmit'
          ? 'Before the end jlab-mcp submits a new job and moves every session to it, replaying its notebook (same session ids).'
          : 'Variables are lost when the job ends (notebooks are saved): write what you need to files; afterwards start_session_resume_notebook replays a notebook on a new job.';
      this.emit({ ...base, kind, message: `SLURM job ${id} reaches its walltime ${when}. ${next}` });
      return;
    }
    if (extendMinutes > 0 && !this.refused.has(id)) {
      const refusal = await scontrolExtend(id, extendMinutes, { timeoutMs: this.commandTimeoutMs });
      if (this.monitor !== monitor) return;
      if (!refusal) {
        await this.hooks.refresh(job).catch(() => {});
        await monitor.reset();
        const now = monitor.status().secondsLeft;
        this.emit({
          ...base,
          secondsLeft: now,
          kind: 'extended',
          message: `SLURM job ${id}: its time limit was extended by ${extendMinutes} min (scontrol update TimeLimit=+${extendMinutes})${now === undefined ? '' : `; ${formatLeft(now)}`}.`,
        });
        return;
      }
      this.refused.add(id);
      this.emit({
        ...base,
        kind: 'extend_refused',
        message: `Slurm refused to extend job ${id} by ${extendMinutes} min (JLAB_MCP_WALLTIME_EXTEND): ${refusal}`,
      });
    }
    const then =
      policy === 'resubmit'
        ? 'Every notebook is saved; a new job is being submitted and every session moves to it (same session ids, notebooks replayed).'
        : 'Every notebook is saved. When the job ends its sessions stop; go on with start_session_resume_notebook on a new job, once per notebook (list_sessions names them).';
    this.emit({
      ...base,
      kind: 'ending',
      message: `SLURM job ${id} reaches its walltime ${when}. ${then}`,
      handover: policy === 'resubmit' ? this.hooks.successor() : undefined,
    });
  }
}
