/**
 * Submission, and what to do when sbatch fails after Slurm may have accepted the job: find it
 * by its unique name (its id was never read back) and cancel it.
 */
import { JlabError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { sbatch, scancel, squeueByName } from './commands.js';
import type { Job } from './job.js';
import { removeJobDir } from './jobFiles.js';

/**
 * sbatch; when it fails in a way that may come after Slurm accepted the job (killed at its
 * timeout or at shutdown, a controller that timed out answering, output without an id), the
 * job is looked up by its unique name and cancelled, and its directory removed so that a job
 * accepted even later exits at once (it cannot cd there).
 */
export async function submitJob(job: Job, signal: AbortSignal, timeoutMs: number): Promise<{ jobId: string; cluster?: string }> {
  try {
    return await sbatch(job.sbatchArgs, job.scriptFile, { timeoutMs, cwd: job.dir, signal });
  } catch (error) {
    if (!(error instanceof JlabError) || error.context.maybeSubmitted !== true) {
      job.handedToSbatch = false; // sbatch never ran: there is nothing to look for
      throw error;
    }
    const found = await cancelByName(job, timeoutMs);
    await removeJobDir(job);
    const note =
      found.length > 0
        ? `Slurm had accepted it anyway as job ${found.join(', ')} (found by its name ${job.name}); it was cancelled.`
        : `No job named ${job.name} is queued.`;
    throw new JlabError(error.code, `${error.message}\n${note}`, { hint: error.hint, context: { ...error.context, jobName: job.name }, cause: error });
  }
}

/**
 * Cancels this user's unfinished jobs named `job.name` (whose ids were never read back);
 * resolves to their ids. A failing squeue is logged: the job then ends itself at the
 * heartbeat timeout, or at once when it finds its directory gone.
 */
export async function cancelByName(job: Job, timeoutMs: number): Promise<string[]> {
  const answer = await squeueByName(job.name, { timeoutMs });
  if (answer.kind === 'error') {
    log.warn(`SLURM: could not look for job ${job.name} (sbatch's answer was lost): ${answer.words}`);
    return [];
  }
  const ids = answer.ids.filter((id) => !job.sweptIds.has(id) && id !== job.id);
  for (const id of ids) {
    job.sweptIds.add(id);
    const failed = await scancel(id, { timeoutMs });
    if (failed) log.warn(`SLURM: scancel ${id} (job ${job.name}, id never read from sbatch) failed: ${failed}`);
    else log.info(`SLURM: cancelled job ${id} (${job.name}), submitted although sbatch's answer was lost`);
  }
  return ids;
}
