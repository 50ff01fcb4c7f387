/**
 * A job an earlier jlab-mcp submitted, found again from its directory (reattach): the same file
 * names createJob() uses, the token from its 0600 file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { registerSecret } from '../../util/secrets.js';
import type { Job } from './job.js';

/** The job's files under `dir`, as createJob() lays them out. */
export function jobPaths(dir: string): Pick<Job, 'dir' | 'scriptFile' | 'logPattern' | 'connectionFile' | 'heartbeatFile'> & { tokenFile: string } {
  return {
    dir,
    scriptFile: path.join(dir, 'jupyter-job.sh'),
    logPattern: path.join(dir, 'slurm-%j.out'),
    connectionFile: path.join(dir, 'connection.json'),
    heartbeatFile: path.join(dir, 'heartbeat'),
    tokenFile: path.join(dir, 'token'),
  };
}

/**
 * The job `jobId` with its files in `dir`, or undefined when its token file is gone or empty
 * (the directory was removed: the job cannot be reached). The name is read back from the script.
 */
export async function jobFromDir(dir: string, jobId: string, tokenFile?: string): Promise<Job | undefined> {
  const paths = jobPaths(dir);
  const token = (await readFile(tokenFile ?? paths.tokenFile, 'utf8').catch(() => '')).split('\n')[0]!.trim();
  if (!token) return undefined;
  registerSecret(token);
  const script = await readFile(paths.scriptFile, 'utf8').catch(() => '');
  const name = /^#SBATCH --job-name=(\S+)$/m.exec(script)?.[1] ?? '';
  const { tokenFile: _unused, ...files } = paths;
  return { ...files, token, sbatchArgs: [], name, sweptIds: new Set(), id: jobId, handedToSbatch: true };
}
