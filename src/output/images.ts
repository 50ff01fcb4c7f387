import type { Sharp } from 'sharp';
import { jpegSize, pngHeader, pngImageData, pngInflatedLimit, type ImageSize } from './imageHeader.js';
import { imageLibrary, type ImageLibrary } from './imageLibrary.js';
import { inflatesWithin } from './inflateBound.js';

export interface ImageLimits {
  /** Longest edge, in pixels, of an image the agent gets. */
  maxEdge: number;
  /** Size, in bytes (decoded, not base64), of an image the agent gets. */
  maxBytes: number;
  /**
   * Pixels (width × height, read from the header) above which an image is not decoded at all.
   * Default {@link DEFAULT_MAX_PIXELS}.
   */
  maxPixels?: number;
}

/** 50 megapixels: a 200 MB RGBA bitmap; far above any figure a plotting library makes. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface FittedImage {
  data: string;
  mimeType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  /** True when the agent's copy differs from the original (scaled or re-encoded). */
  changed: boolean;
}

/** Why the agent gets no copy of an image. */
export interface ImageRefusal {
  refused: true;
  /** Plain words, e.g. "above the 50 MP limit". */
  reason: string;
  /** From the header, when it could be read. */
  width?: number;
  height?: number;
}

/** A decoded, scaled image: 8-bit samples, 1–4 channels as the source had them. */
interface Bitmap {
  pixels: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Attempts at shrinking (each 0.7× the edge of the one before) before giving up. */
const ATTEMPTS = 6;

/**
 * The agent's copy of an image: the original when it is within both limits, else scaled down
 * and re-encoded — PNG first, JPEG when PNG stays too big (or the original's bytes per pixel
 * say it would) — shrinking further until it fits.
 * The size is read from the header first: an unreadable header or more than `maxPixels` pixels
 * is refused without decoding (a few header bytes claim any size they like). Decoding,
 * scaling and encoding run in libvips (sharp) on libuv's thread pool: the event loop, which
 * serves every other session, stays free meanwhile.
 */
export async function fitImage(base64: string, mimeType: 'image/png' | 'image/jpeg', limits: ImageLimits): Promise<FittedImage | ImageRefusal> {
  const bytes = Buffer.from(base64, 'base64');
  const kind = mimeType === 'image/png' ? 'PNG' : 'JPEG';
  const png = mimeType === 'image/png' ? pngHeader(bytes) : undefined;
  const size = mimeType === 'image/png' ? png : jpegSize(bytes);
  if (!size || size.width === 0 || size.height === 0) return { refused: true, reason: `not a readable ${kind} (no valid header)` };
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const refuse = (reason: string): ImageRefusal => ({ refused: true, reason, width: size.width, height: size.height });
  if (size.width * size.height > maxPixels) return refuse(`above the ${megapixels(maxPixels)} MP limit`);
  if (bytes.length <= limits.maxBytes && Math.max(size.width, size.height) <= limits.maxEdge) {
    return { data: base64, mimeType, width: size.width, height: size.height, changed: false };
  }
  if (png?.interlaced) {
    // Why: a few KB of zlib can expand to gigabytes; the header bounds what honest data inflates to.
    const data = pngImageData(bytes);
    if (!data) return refuse('PNG could not be decoded (cut short: no complete image data)');
    if (!(await inflatesWithin(data, pngInflatedLimit(png)))) return refuse('PNG could not be decoded (its data inflates beyond the size its header gives)');
  }
  let sharp: ImageLibrary;
  try {
    sharp = await imageLibrary();
  } catch (error) {
    return refuse(`too large to show as it is, and the image library (sharp) could not be loaded (${reasonOf(error)})`);
  }
  try {
    return (await shrinkToFit(sharp, bytes, size, limits, maxPixels)) ?? refuse(`could not be made smaller than ${limits.maxBytes} bytes`);
  } catch (error) {
    return refuse(`${kind} could not be decoded (${reasonOf(error)})`);
  }
}

/** libvips repeats a message once per layer it passes through; each line is said once. */
function reasonOf(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((line) => line.trim());
  return [...new Set(lines.filter(Boolean))].join('; ').slice(0, 120);
}

/** True when {@link fitImage} gave no image. */
export function isRefusal(result: FittedImage | ImageRefusal): result is ImageRefusal {
  return 'refused' in result;
}

/**
 * Decodes once into a bitmap at the first scale; each later, smaller attempt scales that
 * bitmap, not the original. Undefined when even the last attempt is above `maxBytes`.
 */
async function shrinkToFit(sharp: ImageLibrary, bytes: Buffer, size: ImageSize, limits: ImageLimits, maxPixels: number): Promise<FittedImage | undefined> {
  let scale = Math.min(1, limits.maxEdge / Math.max(size.width, size.height));
  // sharp's own pixel cap, behind ours: it applies to what the decoder finds, not what a header claims.
  let bitmap = await toBitmap(sharp(bytes, { limitInputPixels: maxPixels }), scaled(size, scale));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++, scale *= 0.7) {
    if (attempt > 0) bitmap = await toBitmap(sharp(bitmap.pixels, { raw: bitmap }), scaled(size, scale));
    // Why: the original's bytes per pixel predict a lossless copy's; a noisy plot at twice the
    // budget or more will not fit as PNG, and encoding it first only delays the JPEG that will.
    const pngGuess = bytes.length * ((bitmap.width * bitmap.height) / (size.width * size.height));
    const fitted = await encodeWithin(sharp, bitmap, limits.maxBytes, pngGuess <= 2 * limits.maxBytes);
    if (fitted) return fitted;
  }
  return undefined;
}

function scaled(size: ImageSize, scale: number): ImageSize {
  return { width: Math.max(1, Math.round(size.width * scale)), height: Math.max(1, Math.round(size.height * scale)) };
}

async function toBitmap(image: Sharp, size: ImageSize): Promise<Bitmap> {
  const { data, info } = await image.resize(size.width, size.height, { fit: 'fill' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

/** PNG when tried and it fits, else JPEG (on white: JPEG has no alpha, a notebook page is white), else undefined. */
async function encodeWithin(sharp: ImageLibrary, bitmap: Bitmap, maxBytes: number, tryPng: boolean): Promise<FittedImage | undefined> {
  const { width, height } = bitmap;
  if (tryPng) {
    const png = await sharp(bitmap.pixels, { raw: bitmap }).png({ compressionLevel: 9 }).toBuffer();
    if (png.length <= maxBytes) return { data: png.toString('base64'), mimeType: 'image/png', width, height, changed: true };
  }
  const jpeg = await sharp(bitmap.pixels, { raw: bitmap }).flatten({ background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer();
  if (jpeg.length <= maxBytes) return { data: jpeg.toString('base64'), mimeType: 'image/jpeg', width, height, changed: true };
  return undefined;
}

function megapixels(pixels: number): number {
  return Number((pixels / 1e6).toPrecision(3));
}
