import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { messageOf } from '../util/errors.js';
import { exec, ExecError } from '../util/exec.js';
import { gpuReport, resourcesSummary, slurmReport, type KernelFacts } from './resources.js';

/** How long nvidia-smi may take on jlab-mcp's own machine, in ms. */
const NVIDIA_SMI_TIMEOUT_MS = 10_000;
const GPU_QUERY = ['--query-gpu=index,uuid,name,memory.used,memory.total,utilization.gpu,temperature.gpu', '--format=csv,noheader,nounits'];

/** MemAvailable from /proc/meminfo (what a new process can get), else os.freemem(). */
async function availableMemory(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const match = /^MemAvailable:\s+(\d+)\s*kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : os.freemem();
}

async function nvidiaSmi(): Promise<KernelFacts['nvidia_smi']> {
  try {
    const { stdout } = await exec(['nvidia-smi', ...GPU_QUERY], { timeoutMs: NVIDIA_SMI_TIMEOUT_MS, maxOutput: 1 << 20 });
    return { available: true, gpus: stdout, apps: '' };
  } catch (error) {
    if (error instanceof ExecError && error.kind === 'not-found') return { available: false, reason: 'nvidia-smi is not on PATH on this host' };
    return { available: true, gpus: '', gpus_error: `nvidia-smi failed: ${messageOf(error).slice(0, 300)}` };
  }
}

/**
 * kernel_resources without a session: the local backend's kernels run on jlab-mcp's machine, so
 * it is measured here (no kernel process yet); a SLURM job is described as jlab-mcp knows it.
 */
export async function backendResources(backend: Record<string, unknown>): Promise<Record<string, unknown>> {
  const kind = String(backend.kind ?? 'unknown');
  if (kind !== 'local') {
    const slurm = slurmReport(backend, {});
    return {
      backend: kind,
      measured: false,
      summary: `No session: start one (start_new_session) and call kernel_resources with its session_id to measure the machine its kernel runs on${slurm ? ' (the compute node)' : ''}.`,
      ...(slurm ? { slurm } : {}),
    };
  }
  const total = os.totalmem();
  const available = await availableMemory();
  const facts: KernelFacts = {
    hostname: os.hostname(),
    pid: process.pid,
    cpu: { count: os.cpus().length, load_avg: os.loadavg() },
    memory: { total_bytes: total, available_bytes: available, used_bytes: total - available },
    cgroup_memory: null,
    kernel_process: { pid: process.pid },
    kernel_pids: [],
    slurm: {},
    cuda_visible_devices: process.env.CUDA_VISIBLE_DEVICES ?? null,
    nvidia_smi: await nvidiaSmi(),
  };
  const gpu = gpuReport(facts.nvidia_smi, []);
  return {
    backend: kind,
    measured: true,
    measured_on: "jlab-mcp's machine, where the local backend's kernels run (no session: no kernel process to measure)",
    summary: resourcesSummary({ ...facts, kernel_process: { pid: process.pid } }, gpu),
    hostname: facts.hostname,
    cpu: facts.cpu,
    memory: facts.memory,
    gpu,
  };
}
