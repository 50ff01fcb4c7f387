import type sharp from 'sharp';

export type ImageLibrary = typeof sharp;

let loading: Promise<ImageLibrary> | undefined;

/**
 * sharp (libvips), loaded on first use rather than at start: on a platform with neither its
 * prebuilt binary nor the WebAssembly fallback, the agent loses scaled copies of large images,
 * not the whole server. A failed load is remembered; it would fail again.
 */
export function imageLibrary(): Promise<ImageLibrary> {
  loading ??= import('sharp').then(({ default: library }) => {
    // Why: sharp caches decoded inputs by default; ours are base64 buffers seen once, so a
    // cache would only hold up to 50 MB of old figures in the server's memory.
    library.cache(false);
    return library;
  });
  return loading;
}
