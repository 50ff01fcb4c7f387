import { progress } from './progress.js';

type Task = { what: string; run: () => Promise<void> };

/**
 * Things to undo (processes to stop, temp dirs to remove). Scenarios release their own in
 * `finally`; whatever is still registered when the bench ends, is interrupted or hits its
 * watchdog is undone here, newest first.
 */
export class Cleanups {
  private readonly tasks = new Set<Task>();

  /** Registers an undo step; the returned function runs it now (once) and unregisters it. */
  add(what: string, run: () => Promise<void>): () => Promise<void> {
    const task: Task = { what, run };
    this.tasks.add(task);
    return async () => {
      if (!this.tasks.delete(task)) return;
      await run();
    };
  }

  async runAll(): Promise<void> {
    const pending = [...this.tasks].reverse();
    this.tasks.clear();
    for (const task of pending) {
      try {
        await task.run();
      } catch (error) {
        progress(`cleanup of ${task.what} failed: ${(error as Error).message}`);
      }
    }
  }
}
