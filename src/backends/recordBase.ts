import { z } from 'zod';

/**
 * Fields every backend's server record has: what a later jlab-mcp needs to find a server again.
 * No token: a record names a 0600 file holding it.
 */
export const serverRecordBase = {
  /** The profile the server runs for ("default" without profiles). */
  profile: z.string().min(1),
  baseUrl: z.string().min(1),
  /** SHA-256 fingerprint of the server's TLS certificate, when it serves HTTPS. */
  certFingerprint: z.string().optional(),
  /** ISO time the server (or its job) started. */
  startedAt: z.string(),
};
