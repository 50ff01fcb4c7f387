import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { WALLTIME_SIGNAL_FILE } from './batchScript.js';
import type { Job } from './job.js';
import { parseSlurmDuration } from './parsers.js';
import { secondsLeftNow, walltimeStep, type WalltimeEventKind, type WalltimePolicy, type WalltimeState, type WalltimeStatus } from './walltime.js';

/** How often the signal file and the time-left estimate are looked at, in ms (a stat, no Slurm call). */
const LOOK_EVERY_MS = 3000;

/**
 * Watches one job's walltime: the time left from the backend's last squeue row (refreshed with
 * the heartbeat, estimated in between) and the file the batch script touches on Slurm's USR1.
 * Calls `onEvent` once per warning / ending (walltimeStep). Its timer does not hold the process.
 */
export class WalltimeMonitor {
  private readonly state: WalltimeState;
  private timer?: NodeJS.Timeout;
  private looking = false;

  constructor(
    private readonly job: Job,
    private readonly settings: { warningS: number; leadS: number; policy: WalltimePolicy },
    private readonly onEvent: (kind: WalltimeEventKind) => void,
  ) {
    this.state = { jobId: job.id ?? '?', at: Date.now(), warned: false, ending: false, signalled: false };
    this.takeRow();
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.look(), LOOK_EVERY_MS);
    this.timer.unref();
    void this.look();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** After an extension: the next approach of the (new) end warns and ends again. */
  async reset(): Promise<void> {
    this.state.warned = false;
    this.state.ending = false;
    this.state.signalled = false;
    this.takeRow(true);
    await unlink(this.signalFile()).catch(() => {});
  }

  status(): WalltimeStatus {
    const left = secondsLeftNow(this.state, Date.now());
    return {
      jobId: this.state.jobId,
      secondsLeft: left,
      warning: this.state.warned || (left !== undefined && left <= this.settings.warningS),
      ending: this.state.ending,
      policy: this.settings.policy,
    };
  }

  /** One look: the latest squeue row, the signal file, then the events they bring. */
  async look(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      this.takeRow();
      if (!this.state.signalled)
        this.state.signalled = await stat(this.signalFile()).then(
          () => true,
          () => false,
        );
      for (const kind of walltimeStep(this.state, Date.now(), this.settings)) this.onEvent(kind);
    } finally {
      this.looking = false;
    }
  }

  private signalFile(): string {
    return path.join(this.job.dir, WALLTIME_SIGNAL_FILE);
  }

  /** Takes the time left from the job's last squeue row when it is newer than what we have. */
  private takeRow(force = false): void {
    const row = this.job.row;
    const at = this.job.checkedAt;
    if (!row || !at || (!force && at <= this.state.at && this.state.secondsLeft !== undefined)) return;
    this.state.secondsLeft = parseSlurmDuration(row.timeLeft);
    this.state.at = at;
  }
}
