import { readFileSync } from 'node:fs';

/** VmRSS of a process in MB, from /proc/<pid>/status; undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; keeps every sample. */
export class RssSampler {
  readonly samples: Array<{ t: number; mb: number }> = [];
  private timer?: NodeJS.Timeout;
  private readonly t0 = performance.now();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  get maxMb(): number {
    return Math.max(...this.samples.map((s) => s.mb));
  }

  private sample(): void {
    const mb = rssMb(this.pid);
    if (mb !== undefined) this.samples.push({ t: performance.now() - this.t0, mb });
  }
}
