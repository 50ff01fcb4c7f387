/**
 * A FIFO lock: calls on one session run one at a time, in arrival order.
 * `pending` counts the holders and waiters so callers can say "queued behind N".
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private count = 0;

  get pending(): number {
    return this.count;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    this.count++;
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      return await task();
    } finally {
      this.count--;
      release();
    }
  }
}
