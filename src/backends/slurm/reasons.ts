/**
 * Slurm pending reasons that mean the job will never start as submitted: waiting is pointless,
 * so the start fails at once with Slurm's word for it. (Reasons such as Resources, Priority,
 * ReqNodeNotAvail or PartitionDown may clear by themselves and are waited on.)
 */
const NEVER_STARTS: Record<string, string> = {
  PartitionTimeLimit: "the time limit (JLAB_MCP_SLURM_TIME) is above the partition's maximum",
  PartitionNodeLimit: 'the job asks for more nodes than the partition allows',
  BadConstraints: 'no node can satisfy the constraints (JLAB_MCP_SLURM_CONSTRAINT / _GRES / _MEM / _CPUS)',
  InvalidAccount: 'the account (JLAB_MCP_SLURM_ACCOUNT) is not valid',
  InvalidQOS: 'the QOS (JLAB_MCP_SLURM_QOS) is not valid',
  DependencyNeverSatisfied: 'a job dependency can never be satisfied',
  QOSMaxWallDurationPerJobLimit: "the time limit is above the QOS's maximum",
  AssocMaxWallDurationPerJobLimit: "the time limit is above the account's maximum",
  QOSMaxCpuPerJobLimit: "the CPUs asked for are above the QOS's per-job limit",
  AssocMaxCpuPerJobLimit: "the CPUs asked for are above the account's per-job limit",
  QOSMaxMemoryPerJob: "the memory asked for is above the QOS's per-job limit",
  QOSMaxGRESPerJob: "the GRES asked for are above the QOS's per-job limit",
  QOSMaxNodePerJobLimit: "the nodes asked for are above the QOS's per-job limit",
  AssocMaxNodePerJobLimit: "the nodes asked for are above the account's per-job limit",
  QOSMinGRES: "the GRES asked for are below the QOS's minimum",
};

/**
 * Reasons Slurm also shows for a moment right after submission (22.05 shows PartitionConfig
 * before PartitionTimeLimit): they count as "never" only once they have lasted this long.
 */
const NEVER_STARTS_IF_PERSISTENT: Record<string, string> = {
  PartitionConfig: 'the partition cannot satisfy the request (more CPUs, memory or GPUs than its nodes have, or a setting it does not allow)',
};
export const PERSISTENT_REASON_GRACE_MS = 10_000;

/**
 * An explanation when `reason` (squeue %r), shown for `lastedMs` so far, means the job can
 * never start; else undefined.
 */
export function neverStartsReason(reason: string, lastedMs = Number.POSITIVE_INFINITY): string | undefined {
  const key = reason.trim();
  return NEVER_STARTS[key] ?? (lastedMs >= PERSISTENT_REASON_GRACE_MS ? NEVER_STARTS_IF_PERSISTENT[key] : undefined);
}

/** squeue %T states after which the job is not going to run Jupyter any more. */
export function hasEnded(state: string, isTerminal: (s: string) => boolean): boolean {
  const base = state.trim().toUpperCase();
  return isTerminal(base) || base.startsWith('COMPLETING') || base.startsWith('CANCELLED') || base === 'STOPPED';
}
