/**
 * Jupyter's own culling, as argv (values only, no secrets): kernels idle and without a
 * connection for `seconds` are shut down (a busy one never is), and the server itself once it
 * has had no kernels and no activity for as long. Used by every backend that starts Jupyter
 * (local, SLURM), so a server left without jlab-mcp ends by itself.
 * Note: jupyter-server checks shutdown_no_activity once a minute, so the server ends up to
 * ~60 s after `seconds`.
 */
export function cullingArgs(seconds: number): string[] {
  const interval = Math.max(1, Math.min(60, Math.round(seconds / 4)));
  return [
    `--MappingKernelManager.cull_idle_timeout=${seconds}`,
    `--MappingKernelManager.cull_interval=${interval}`,
    '--MappingKernelManager.cull_connected=False',
    '--MappingKernelManager.cull_busy=False',
    `--ServerApp.shutdown_no_activity_timeout=${seconds}`,
  ];
}
