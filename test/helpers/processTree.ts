import { readFile, readdir } from 'node:fs/promises';
import { holdsWithin } from './poll.js';

/** A process as /proc names it: its pid plus its start time, so a reused pid is not mistaken for it. */
interface ProcessKey {
  pid: number;
  start: string;
  command: string;
}

async function statOf(pid: number): Promise<{ ppid: number; start: string; zombie: boolean } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19]!, zombie: fields[0] === 'Z' };
  } catch {
    return undefined;
  }
}

async function commandOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
}

/**
 * Records every process that descends from the given roots while it watches — jlab-mcp, the
 * Jupyter server it starts, each kernel, a kernel restarted by the server — sampling /proc every
 * `intervalMs` (default 150). A process stays tracked after its parent dies and it is
 * reparented, and its own children are tracked too. `leftAlive()` names those still running.
 */
export class ProcessTree {
  private readonly seen = new Map<string, ProcessKey>();
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly roots: number[],
    intervalMs = 150,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    void this.sample();
  }

  /** Adds another root (a server the test started itself). */
  addRoot(pid: number): void {
    this.roots.push(pid);
  }

  /** Takes a sample now and waits for it. */
  sample(): Promise<void> {
    this.sampling = this.sampling.then(() => this.walk()).catch(() => {});
    return this.sampling;
  }

  private async walk(): Promise<void> {
    const tracked = new Set<number>(this.roots);
    for (const key of this.seen.values()) tracked.add(key.pid);
    const entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
    const stats = new Map<number, { ppid: number; start: string; zombie: boolean }>();
    for (const pid of entries) {
      const stat = await statOf(pid);
      if (stat) stats.set(pid, stat);
    }
    // Children before parents are possible in /proc order: repeat until nothing new is found.
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, stat] of stats) {
        if (stat.zombie || (!tracked.has(pid) && !tracked.has(stat.ppid))) continue;
        const id = `${pid}@${stat.start}`;
        if (this.seen.has(id)) continue;
        this.seen.set(id, { pid, start: stat.start, command: await commandOf(pid) });
        if (!tracked.has(pid)) grew = true;
        tracked.add(pid);
      }
    }
  }

  /** Every process recorded so far, with its command line. */
  all(): ProcessKey[] {
    return [...this.seen.values()];
  }

  /** Those recorded processes that still run (same pid and start time, not a zombie). */
  async leftAlive(): Promise<ProcessKey[]> {
    const alive: ProcessKey[] = [];
    for (const key of this.seen.values()) {
      const stat = await statOf(key.pid);
      if (stat && stat.start === key.start && !stat.zombie) alive.push(key);
    }
    return alive;
  }

  /** Polls until every recorded process has ended; returns those still running at the deadline. */
  async waitAllGone(timeoutMs: number): Promise<ProcessKey[]> {
    clearInterval(this.timer);
    await this.sample();
    let alive: ProcessKey[] = [];
    await holdsWithin('every recorded process gone', async () => (alive = await this.leftAlive()).length === 0, { timeoutMs });
    return alive;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
