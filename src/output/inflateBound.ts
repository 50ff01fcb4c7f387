import { createInflate } from 'node:zlib';

/**
 * Whether a zlib stream inflates to at most `limit` bytes. It streams on libuv's thread pool
 * and counts, keeping no output: a zip bomb costs the bytes read so far, never a buffer of
 * its claimed size, and never a stall of the event loop. Truncated or corrupt data counts as
 * within (the decoder that follows refuses it with its own reason).
 */
export function inflatesWithin(data: Uint8Array, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    const inflate = createInflate({ chunkSize: 256 * 1024 });
    let total = 0;
    let settled = false;
    const settle = (within: boolean) => {
      if (settled) return;
      settled = true;
      resolve(within);
      inflate.destroy();
    };
    inflate.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) settle(false);
    });
    inflate.on('end', () => settle(true));
    inflate.on('error', () => settle(true));
    inflate.end(data);
  });
}
