import { z } from 'zod';
import { serverRecordBase } from '../recordBase.js';

/**
 * A server the user runs. The external backend records none today (its URL and token come from
 * the settings each time); the kind is in the union so that a registry naming one is understood
 * and left alone rather than set aside as foreign.
 */
export const externalServerRecordSchema = z.object({
  backend: z.literal('external'),
  ...serverRecordBase,
});

export type ExternalServerRecord = z.infer<typeof externalServerRecordSchema>;
