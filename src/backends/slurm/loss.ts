import type { SqueueAnswer } from './commands.js';
import { isTerminalState } from './parsers.js';
import { hasEnded } from './reasons.js';

export type LossVerdict =
  /** Slurm still runs the job. */
  | { kind: 'alive' }
  /** The job ended or is gone: `what` says so in Slurm's words (the log tail is added by the caller). */
  | { kind: 'lost'; what: string }
  /** squeue failed: nothing can be concluded. */
  | { kind: 'unknown'; words: string };

/** What one squeue answer says about the job that hosts Jupyter. Pure. */
export function lossVerdict(jobId: string, answer: SqueueAnswer): LossVerdict {
  if (answer.kind === 'error') return { kind: 'unknown', words: answer.words };
  if (answer.kind === 'gone') return { kind: 'lost', what: `the SLURM job ${jobId} hosting Jupyter is gone (${answer.words}).` };
  const { state, reason } = answer.row;
  if (!hasEnded(state, isTerminalState)) return { kind: 'alive' };
  return { kind: 'lost', what: `the SLURM job ${jobId} hosting Jupyter ended: Slurm says ${state}${reason && reason !== 'None' ? ` (${reason})` : ''}.` };
}
