import { createHash, randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPythonKernel } from '../introspect/probe.js';
import { parseGpuCsv } from '../introspect/nvidiaSmi.js';
import { writeFileAtomic } from '../notebook/atomicWrite.js';
import { environmentsOf, recordEnvironment, type EnvironmentRecord } from '../notebook/provenance.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import type { ProvenanceTracker } from './provenanceTracker.js';
import type { Session } from './session.js';

/** How long the kernel may take to describe its environment (pip's list, nvidia-smi), in ms. */
const ENVIRONMENT_TIMEOUT_MS = 60_000;
/**
 * The full package lists live next to the notebooks, one file per distinct list (named by its
 * hash), so they travel with the notebook directory, a person can open them, and a hundred
 * sessions on one environment write one file — the notebook keeps the hash and the file's name.
 */
export const ENVIRONMENTS_DIR = 'jlab-mcp-environments';

/** What assets/kernel/python_inspect.py `environment()` sends back. */
interface EnvironmentFacts {
  python: string;
  implementation: string;
  executable: string;
  prefix: string;
  platform: string;
  hostname: string;
  slurm_job_id: string | null;
  cuda_visible_devices: string | null;
  conda_env: string | null;
  packages: Record<string, string>;
  freeze: string[] | null;
  conda_packages: string[] | null;
  nvidia_smi: { available: boolean; reason?: string; gpus?: string; gpus_error?: string };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The host and job jlab-mcp knows of before the kernel says (the SLURM node, or this machine for the local backend). */
function knownPlace(session: Session): { host?: string; slurmJobId?: string } {
  const backend = session.supervisor.backend.describe();
  if (backend.kind === 'slurm') return { host: backend.node, slurmJobId: backend.jobId };
  if (backend.kind === 'local') return { host: os.hostname() };
  return {};
}

/** Where the full package list of hash `hash` lives, relative to the notebook. */
function packageListPath(hash: string): string {
  return path.join(ENVIRONMENTS_DIR, `${hash.slice(0, 16)}.txt`);
}

/** Writes the full package list next to the notebook, once per distinct list; false when it could not. */
async function writePackageList(notebookPath: string, hash: string, lines: string[], conda: string[] | null): Promise<boolean> {
  const target = path.join(path.dirname(notebookPath), packageListPath(hash));
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  )
    return true;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    const text = [
      `# pip freeze (from importlib.metadata), sha256 ${hash}`,
      ...lines,
      ...(conda ? ['', '# conda-meta (name-version-build)', ...conda] : []),
      '',
    ].join('\n');
    await writeFileAtomic(target, text);
    return true;
  } catch (error) {
    log.warn(`environment: could not write ${target}: ${messageOf(error)}`);
    return false;
  }
}

/** The environment record, and the package list still to be written (Python kernels). */
interface Gathered {
  env: EnvironmentRecord;
  packageList?: { hash: string; lines: string[]; conda: string[] | null };
}

async function gatherEnvironment(session: Session): Promise<Gathered> {
  const kernel = session.kernel;
  const base: EnvironmentRecord = {
    id: randomBytes(4).toString('hex'),
    session_id: session.id,
    recorded_at: new Date().toISOString(),
    kernel: { name: kernel.spec.name, display_name: kernel.spec.display_name, language: String(kernel.languageInfo.name ?? kernel.spec.language ?? '') },
    language_version: typeof kernel.languageInfo.version === 'string' ? kernel.languageInfo.version : undefined,
  };
  const place = knownPlace(session);
  if (!isPythonKernel(kernel)) {
    return {
      env: {
        ...base,
        hostname: place.host,
        slurm_job_id: place.slurmJobId,
        notes: ['not a Python kernel: only the kernelspec, the language version and the host jlab-mcp knows are recorded'],
      },
    };
  }
  const facts = await session.supervisor.probes.ask<EnvironmentFacts>(kernel, 'environment', { gpu_timeout: 5 }, ENVIRONMENT_TIMEOUT_MS);
  const notes: string[] = [];
  let pipFreeze: EnvironmentRecord['pip_freeze'];
  let packageList: Gathered['packageList'];
  if (facts.freeze) {
    const hash = sha256(`${facts.freeze.join('\n')}\n`);
    pipFreeze = { sha256: hash, count: facts.freeze.length, file: packageListPath(hash) };
    packageList = { hash, lines: facts.freeze, conda: facts.conda_packages };
  } else notes.push('importlib.metadata is missing (Python < 3.8): no package list');
  const gpus = facts.nvidia_smi.available ? parseGpuCsv(facts.nvidia_smi.gpus ?? '').map((gpu) => gpu.name) : [];
  if (!facts.nvidia_smi.available) notes.push(`no GPU: ${facts.nvidia_smi.reason ?? 'nvidia-smi unavailable'}`);
  else if (facts.nvidia_smi.gpus_error) notes.push(`GPU model unknown: ${facts.nvidia_smi.gpus_error}`);
  const env: EnvironmentRecord = {
    ...base,
    hostname: facts.hostname,
    slurm_job_id: facts.slurm_job_id,
    python: `${facts.implementation} ${facts.python}`,
    executable: facts.executable,
    platform: facts.platform,
    packages: facts.packages,
    ...(pipFreeze ? { pip_freeze: pipFreeze } : {}),
    ...(facts.conda_env || facts.conda_packages
      ? {
          conda: {
            env: facts.conda_env,
            ...(facts.conda_packages ? { sha256: sha256(facts.conda_packages.join('\n')), count: facts.conda_packages.length } : {}),
          },
        }
      : {}),
    gpus,
    cuda_visible_devices: facts.cuda_visible_devices,
    ...(notes.length ? { notes } : {}),
  };
  return { env, packageList };
}

/**
 * Puts the session's kernel environment on record in its notebook, once per session (and again
 * after a move to a new kernel), and tells each later run of the kernel where it ran. Runs in
 * the background as a silent request sent at once, so it is on the kernel's FIFO ahead of the
 * session's first cell. The record lands in the file with the notebook's next save (the first
 * cell's): it never writes the notebook on its own, behind the agent's back. A session adopted
 * after a restart of jlab-mcp reuses its record; `provenance` learns where the kernel's runs happen. Never throws; a failure is logged.
 */
export function recordSessionEnvironment(session: Session, provenance: ProvenanceTracker, options: { again?: boolean } = {}): void {
  const kernel = session.kernel;
  provenance.setRunContext(kernel, { sessionId: session.id, ...knownPlace(session) });
  const known = environmentsOf(session.notebook.content.metadata).filter((env) => env.session_id === session.id);
  const last = known[known.length - 1];
  if (last && !options.again) {
    provenance.setRunContext(kernel, { environmentId: last.id, host: last.hostname, slurmJobId: last.slurm_job_id ?? undefined });
    return;
  }
  void (async () => {
    const { env, packageList } = await gatherEnvironment(session);
    // The session ended (or moved on) meanwhile: its notebook may have a new writer now.
    if (session.kernel !== kernel || kernel.connection.isDisposed || session.lost) return;
    // No await between the kernel's answer and here: the first cell, queued behind, ends later.
    recordEnvironment(session.notebook.content.metadata, env);
    provenance.setRunContext(kernel, { environmentId: env.id, host: env.hostname, slurmJobId: env.slurm_job_id ?? undefined });
    if (packageList && !(await writePackageList(session.notebookPath, packageList.hash, packageList.lines, packageList.conda))) {
      const recorded = environmentsOf(session.notebook.content.metadata).find((each) => each.id === env.id);
      if (recorded?.pip_freeze) delete recorded.pip_freeze.file;
    }
  })().catch((error: unknown) => log.warn(`session ${session.id}: environment not recorded: ${messageOf(error)}`));
}
