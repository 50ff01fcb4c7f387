import { z } from 'zod';
import { serverRecordBase } from '../recordBase.js';

/** A SLURM job hosting a Jupyter server: found again by its id and 0700 job directory. */
export const slurmServerRecordSchema = z.object({
  backend: z.literal('slurm'),
  ...serverRecordBase,
  jobId: z.string().regex(/^\d+$/, 'a SLURM job id is digits'),
  jobDir: z.string().min(1),
  /** A 0600 file in the job directory whose first line is the token. */
  tokenFile: z.string().min(1),
});

export type SlurmServerRecord = z.infer<typeof slurmServerRecordSchema>;
