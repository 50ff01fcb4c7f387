import { z } from 'zod';
import { externalServerRecordSchema } from './external/record.js';
import { localServerRecordSchema } from './local/record.js';
import { slurmServerRecordSchema } from './slurm/record.js';

/** A server record, one shape per backend kind, each defined next to its backend. */
export const serverRecordSchema = z.discriminatedUnion('backend', [localServerRecordSchema, externalServerRecordSchema, slurmServerRecordSchema]);

export type ServerRecord = z.infer<typeof serverRecordSchema>;
export type BackendKind = ServerRecord['backend'];
/** The record of one backend kind. */
export type ServerRecordOf<K extends BackendKind> = Extract<ServerRecord, { backend: K }>;
