import { progress } from './progress.js';

type Task = { what: string; run: () => Promise<void>; done?: Promise<void> };

/**
 * Things to undo (processes to stop, temp dirs to remove). Scenarios release their own in
 * `finally`; whatever is still registered when the bench ends, is interrupted or hits its
 * watchdog is undone by `runAll`, newest first. Each undo runs once: releasing a task that
 * `runAll` already started waits for that same run, so nobody moves on while it is half done.
 */
export class Cleanups {
  private readonly tasks: Task[] = [];

  /** Registers an undo step; the returned function runs it (once) and resolves when it is done. Never rejects. */
  add(what: string, run: () => Promise<void>): () => Promise<void> {
    const task: Task = { what, run };
    this.tasks.push(task);
    return () => this.settle(task);
  }

  /** Runs every registered step newest first, including any registered meanwhile, and waits for those already running. */
  async runAll(): Promise<void> {
    while (this.tasks.length) {
      for (const task of [...this.tasks].reverse()) await this.settle(task);
    }
  }

  private settle(task: Task): Promise<void> {
    task.done ??= (async () => {
      try {
        await task.run();
      } catch (error) {
        progress(`cleanup of ${task.what} failed: ${(error as Error).message}`);
      } finally {
        const index = this.tasks.indexOf(task);
        if (index >= 0) this.tasks.splice(index, 1);
      }
    })();
    return task.done;
  }
}
