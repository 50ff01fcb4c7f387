import { z } from 'zod';
import { serverRecordBase } from '../recordBase.js';

/** A Jupyter server the local backend started: found again by its pid and runtime directory. */
export const localServerRecordSchema = z.object({
  backend: z.literal('local'),
  ...serverRecordBase,
  /** The Jupyter server's pid. */
  pid: z.number().int().positive(),
  /** Its runtime directory (config, token), removed when the server is stopped. */
  runtimeDir: z.string().min(1),
  /** A 0600 file in the runtime directory whose first line is the token. */
  tokenFile: z.string().min(1),
});

export type LocalServerRecord = z.infer<typeof localServerRecordSchema>;
