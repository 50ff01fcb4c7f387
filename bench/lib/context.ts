import type { Cleanups } from './cleanup.js';
import type { BenchOptions } from './options.js';

/** What every scenario gets. */
export interface BenchContext {
  options: BenchOptions;
  cleanups: Cleanups;
}
