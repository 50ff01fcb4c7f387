/**
 * Walltime awareness, pure: when the job's end comes close enough to warn, when it is ending
 * (Slurm's USR1 from `--signal=B:USR1@<lead>`, or our own estimate when that signal is late), and
 * the words for the agent. The monitor that feeds it (squeue, the signal file) is in
 * walltimeMonitor.ts.
 */
import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { parseSlurmDuration } from './parsers.js';

/** What jlab-mcp does when the job's walltime ends soon (JLAB_MCP_ON_WALLTIME). */
export type WalltimePolicy = 'notify' | 'resubmit';

export interface WalltimeSettings {
  /** Seconds of walltime left below which cells' footers say so and a warning is sent. Default 900. */
  warningS: number;
  policy: WalltimePolicy;
  /** Minutes `scontrol update TimeLimit=+N` tries to add when the job is ending; 0: never. */
  extendMinutes: number;
}

export const DEFAULT_WALLTIME: WalltimeSettings = { warningS: 900, policy: 'notify', extendMinutes: 0 };

/** Slurm refuses a --signal time above this (seconds). */
const MAX_SIGNAL_LEAD_S = 65_535;
/** Slurm sends the signal up to a minute early or late: never ask for less lead than this. */
const MIN_SIGNAL_LEAD_S = 30;

/**
 * Seconds before the end at which Slurm sends USR1: the warning threshold, but at most half the
 * time limit (a job shorter than the threshold would be told at its start, and with `resubmit`
 * would move at once, again and again) and within Slurm's bounds.
 * @param timeLimit the job's --time (minutes, H:MM:SS, D-HH:MM:SS); undefined or unparsable: no cap.
 */
export function signalLeadSeconds(warningS: number, timeLimit: string | undefined): number {
  const limit = timeLimit ? parseSlurmDuration(timeLimit) : undefined;
  let lead = Math.floor(warningS);
  if (limit !== undefined && limit > 0) lead = Math.min(lead, Math.floor(limit / 2));
  return Math.max(MIN_SIGNAL_LEAD_S, Math.min(MAX_SIGNAL_LEAD_S, lead));
}

/** Where one job's walltime stands, as the monitor last saw it. */
export interface WalltimeState {
  jobId: string;
  /** Seconds left at `at` (from squeue %L); undefined when Slurm gives none (UNLIMITED). */
  secondsLeft?: number;
  /** When `secondsLeft` was read (ms since the epoch). */
  at: number;
  warned: boolean;
  ending: boolean;
  /** Slurm's USR1 has arrived (the batch script recorded it). */
  signalled: boolean;
}

export type WalltimeEventKind = 'warning' | 'ending';

/** Seconds left now, estimated from the last squeue answer (never below 0). */
export function secondsLeftNow(state: WalltimeState, now: number): number | undefined {
  if (state.secondsLeft === undefined) return undefined;
  return Math.max(0, state.secondsLeft - Math.floor((now - state.at) / 1000));
}

/**
 * The events a look at the job brings, marking them on `state` so each fires once per job (until
 * an extension resets them): `warning` once under the threshold, `ending` at Slurm's signal or,
 * if the signal is late, once the estimate is a minute past the signal's lead.
 */
export function walltimeStep(state: WalltimeState, now: number, settings: { warningS: number; leadS: number }): WalltimeEventKind[] {
  const events: WalltimeEventKind[] = [];
  const left = secondsLeftNow(state, now);
  if (!state.warned && ((left !== undefined && left <= settings.warningS) || state.signalled)) {
    state.warned = true;
    events.push('warning');
  }
  const overdue = left !== undefined && left <= Math.max(15, settings.leadS - 60);
  if (!state.ending && (state.signalled || overdue)) {
    state.ending = true;
    events.push('ending');
  }
  return events;
}

/** "9 min left", "40 s left", "2 h 5 min left". */
export function formatLeft(seconds: number): string {
  if (seconds < 60) return `${seconds} s left`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/** What the footer and status say about a job's walltime (undefined above the threshold). */
export interface WalltimeStatus {
  jobId: string;
  secondsLeft?: number;
  /** Under the warning threshold. */
  warning: boolean;
  /** The end is near (signal or estimate): notebooks were flushed; sessions move (resubmit) or end with the job. */
  ending: boolean;
  policy: WalltimePolicy;
}

/** The footer fragment, e.g. "job 12: 9 min left" or "job 12: 40 s left, ending (moving to a new job)". */
export function walltimeNote(status: WalltimeStatus | undefined): string | undefined {
  if (!status || !(status.warning || status.ending)) return undefined;
  const left = status.secondsLeft === undefined ? 'walltime ending' : formatLeft(status.secondsLeft);
  const ending = status.ending ? (status.policy === 'resubmit' ? ', ending: sessions move to a new job' : ', ending: save what you need') : '';
  return `job ${status.jobId}: ${left}${ending}`;
}

/**
 * Moving to a new job ahead of the walltime (JLAB_MCP_ON_WALLTIME=resubmit): the backend submits
 * and waits for the next job while the current one goes on; the sessions move; then the old job
 * is cancelled.
 */
export interface Handover {
  /** Submits the next job and resolves once its Jupyter answers; the current job goes on meanwhile. */
  start(signal: AbortSignal): Promise<ServerEndpoint>;
  /** The next job becomes the backend's job (record, heartbeat, walltime); returns its id. */
  commit(): string;
  /** Cancels the old job (after the sessions moved off it) and removes its directory. */
  retire(): Promise<void>;
  /** Gives up on the next job (cancelled); the old one stays the backend's job. */
  abandon(): Promise<void>;
}

/** Told to whoever watches the walltime (the MCP layer: log notifications, flushes, moves). */
export interface WalltimeEvent {
  /** warning: under the threshold; ending: the end is near; extended / extend_refused: scontrol's answer. */
  kind: 'warning' | 'ending' | 'extended' | 'extend_refused';
  jobId: string;
  secondsLeft?: number;
  policy: WalltimePolicy;
  /** Plain words for the agent and the log. */
  message: string;
  /** With `ending` under the resubmit policy. */
  handover?: Handover;
}
