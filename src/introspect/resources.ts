import type { Session } from '../sessions/session.js';
import { assertKernelFree } from './kernelFree.js';
import { parseGpuCsv, parseGpuProcessCsv, type GpuProcessRow } from './nvidiaSmi.js';
import { isPythonKernel } from './probe.js';

/** How long the kernel may take to gather its resources (nvidia-smi has 10 s of its own), in ms. */
const RESOURCES_TIMEOUT_MS = 30_000;

/** What assets/kernel/python_inspect.py `resources()` sends back. */
export interface KernelFacts {
  hostname: string;
  pid: number;
  cpu: { count: number | null; usable?: number; load_avg?: number[] };
  memory: { total_bytes: number; available_bytes: number | null; used_bytes: number | null } | null;
  cgroup_memory: { limit_bytes: number | null; current_bytes: number | null } | null;
  kernel_process: { pid: number; rss_bytes?: number; peak_rss_bytes?: number };
  kernel_pids: number[];
  slurm: Record<string, string>;
  cuda_visible_devices: string | null;
  nvidia_smi: { available: boolean; reason?: string; gpus?: string; apps?: string; gpus_error?: string; apps_error?: string };
}

/** The GPU part of the answer: each GPU with its processes, this kernel's marked. */
export function gpuReport(nvidia: KernelFacts['nvidia_smi'], kernelPids: readonly number[]): Record<string, unknown> {
  if (!nvidia.available) return { available: false, reason: nvidia.reason ?? 'nvidia-smi is not available' };
  const ours = new Set(kernelPids);
  const apps: GpuProcessRow[] = parseGpuProcessCsv(nvidia.apps ?? '');
  const gpus = parseGpuCsv(nvidia.gpus ?? '').map((gpu) => {
    const processes = apps.filter((app) => app.gpu_uuid === gpu.uuid).map((app) => ({ ...app, this_kernel: ours.has(app.pid) }));
    return { ...gpu, used_by_this_kernel: processes.some((p) => p.this_kernel), processes };
  });
  const errors = [nvidia.gpus_error, nvidia.apps_error].filter(Boolean);
  return {
    available: true,
    gpus,
    ...(errors.length ? { errors } : {}),
    // Inside a container nvidia-smi may list host pids, which never match the kernel's.
    note: 'this_kernel matches the kernel process and its children by pid.',
  };
}

/** The SLURM job as jlab-mcp knows it (squeue) and as the job sees itself (its environment). */
export function slurmReport(backend: Record<string, unknown>, env: Record<string, string>): Record<string, unknown> | undefined {
  if (backend.kind !== 'slurm' && !env.SLURM_JOB_ID) return undefined;
  const walltime = backend.walltime as { secondsLeft?: number } | undefined;
  const memMb = env.SLURM_MEM_PER_NODE ? Number(env.SLURM_MEM_PER_NODE) : undefined;
  return {
    job_id: backend.jobId ?? env.SLURM_JOB_ID,
    node: backend.node ?? env.SLURM_JOB_NODELIST,
    partition: backend.partition ?? env.SLURM_JOB_PARTITION,
    time_limit: backend.timeLimit,
    time_left: backend.timeLeft,
    seconds_left: walltime?.secondsLeft,
    cpus: env.SLURM_CPUS_ON_NODE ? Number(env.SLURM_CPUS_ON_NODE) : undefined,
    memory_bytes: memMb !== undefined && Number.isFinite(memMb) ? memMb * 1024 * 1024 : undefined,
    memory_per_cpu_mb: env.SLURM_MEM_PER_CPU ? Number(env.SLURM_MEM_PER_CPU) : undefined,
    gres: backend.gres ?? env.SLURM_JOB_GRES,
    gpus: env.SLURM_JOB_GPUS ?? env.SLURM_GPUS_ON_NODE,
    environment: env,
  };
}

const GB = 1024 ** 3;
const MB = 1024 ** 2;

/** One line for people and agents: "vm: 2 CPUs (load 1.1), memory 1.2 of 25.3 GB used, kernel RSS 95 MB, no GPU (…)". */
export function resourcesSummary(facts: KernelFacts, gpus: Record<string, unknown>): string {
  const parts = [
    `${facts.hostname}: ${facts.cpu.usable ?? facts.cpu.count ?? '?'} CPUs${facts.cpu.load_avg ? ` (load ${facts.cpu.load_avg[0]!.toFixed(2)})` : ''}`,
  ];
  if (facts.memory?.used_bytes != null)
    parts.push(`memory ${(facts.memory.used_bytes / GB).toFixed(1)} of ${(facts.memory.total_bytes / GB).toFixed(1)} GB used`);
  if (facts.kernel_process.rss_bytes != null) parts.push(`kernel RSS ${Math.round(facts.kernel_process.rss_bytes / MB)} MB`);
  const list = gpus.gpus as
    | Array<{ name: string; memory_used_mib: number | null; memory_total_mib: number | null; utilization_percent: number | null; used_by_this_kernel: boolean }>
    | undefined;
  if (!gpus.available) parts.push(`no GPU (${String(gpus.reason)})`);
  else if (!list?.length) parts.push('nvidia-smi lists no GPU');
  else {
    for (const [i, gpu] of list.entries()) {
      parts.push(
        `GPU ${i} ${gpu.name}: ${gpu.memory_used_mib ?? '?'} of ${gpu.memory_total_mib ?? '?'} MiB, ${gpu.utilization_percent ?? '?'}% busy${gpu.used_by_this_kernel ? ', used by this kernel' : ''}`,
      );
    }
  }
  return parts.join('; ');
}

/**
 * The machine the session's kernel runs on, measured inside the kernel (on the compute node for
 * SLURM) by a silent request. Refuses at once while a cell runs. Non-Python kernels get the
 * SLURM job facts jlab-mcp has and a plain word on what they cannot measure.
 */
export async function kernelResources(session: Session): Promise<Record<string, unknown>> {
  assertKernelFree(session, 'kernel_resources');
  const backend = session.supervisor.describe().backend as Record<string, unknown>;
  const base = { session_id: session.id, kernel_id: session.kernel.id, backend: String(backend.kind ?? 'unknown') };
  if (!isPythonKernel(session.kernel)) {
    const slurm = slurmReport(backend, {});
    return {
      ...base,
      measured: false,
      summary: `Measuring needs a Python kernel; this ${String(session.kernel.languageInfo.name ?? 'non-Python')} kernel cannot run the probe.`,
      ...(slurm ? { slurm } : {}),
    };
  }
  const facts = await session.supervisor.probes.ask<KernelFacts>(session.kernel, 'resources', { gpu_timeout: 10 }, RESOURCES_TIMEOUT_MS);
  const gpus = gpuReport(facts.nvidia_smi, facts.kernel_pids);
  const slurm = slurmReport(backend, facts.slurm);
  return {
    ...base,
    measured: true,
    summary: resourcesSummary(facts, gpus),
    hostname: facts.hostname,
    cpu: facts.cpu,
    memory: facts.memory,
    ...(facts.cgroup_memory ? { cgroup_memory: facts.cgroup_memory } : {}),
    kernel_process: { ...facts.kernel_process, children: facts.kernel_pids.filter((pid) => pid !== facts.pid).length },
    gpu: gpus,
    ...(facts.cuda_visible_devices != null ? { cuda_visible_devices: facts.cuda_visible_devices } : {}),
    ...(slurm ? { slurm } : {}),
  };
}
