import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { jpegSize, pngHeader, pngImageData, pngInflatedLimit } from './imageHeader.js';

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

interface Bitmap {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel. */
  pixels: Uint8Array;
}

/**
 * The agent's copy of an image: the original when it is within both limits, else scaled down
 * (area averaging) and re-encoded — PNG first, JPEG when PNG stays too big — shrinking further
 * until it fits. The size is read from the header first: an unreadable header or more than
 * `maxPixels` pixels is refused without decoding (a few header bytes claim any size they like).
 */
export function fitImage(base64: string, mimeType: 'image/png' | 'image/jpeg', limits: ImageLimits): FittedImage | ImageRefusal {
  const bytes = Buffer.from(base64, 'base64');
  const kind = mimeType === 'image/png' ? 'PNG' : 'JPEG';
  const size = mimeType === 'image/png' ? pngHeader(bytes) : jpegSize(bytes);
  if (!size || size.width === 0 || size.height === 0) return { refused: true, reason: `not a readable ${kind} (no valid header)` };
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (size.width * size.height > maxPixels) {
    return { refused: true, reason: `above the ${megapixels(maxPixels)} MP limit`, width: size.width, height: size.height };
  }
  if (bytes.length <= limits.maxBytes && Math.max(size.width, size.height) <= limits.maxEdge) {
    return { data: base64, mimeType, width: size.width, height: size.height, changed: false };
  }
  let bitmap: Bitmap;
  try {
    bitmap = mimeType === 'image/png' ? decodePng(bytes) : decodeJpeg(bytes, maxPixels);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { refused: true, reason: `${kind} could not be decoded (${why.slice(0, 120)})`, width: size.width, height: size.height };
  }
  let scale = Math.min(1, limits.maxEdge / Math.max(bitmap.width, bitmap.height));
  for (let attempt = 0; attempt < 6; attempt++, scale *= 0.7) {
    const scaled = scale < 1 ? resize(bitmap, Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale))) : bitmap;
    const png = PNG.sync.write(Object.assign(new PNG({ width: scaled.width, height: scaled.height }), { data: Buffer.from(scaled.pixels) }), {
      deflateLevel: 9,
    });
    if (png.length <= limits.maxBytes) return { data: png.toString('base64'), mimeType: 'image/png', width: scaled.width, height: scaled.height, changed: true };
    const jpg = jpeg.encode({ data: onWhite(scaled.pixels), width: scaled.width, height: scaled.height }, 85).data;
    if (jpg.length <= limits.maxBytes) return { data: Buffer.from(jpg).toString('base64'), mimeType: 'image/jpeg', width: scaled.width, height: scaled.height, changed: true };
  }
  return { refused: true, reason: `could not be made smaller than ${limits.maxBytes} bytes`, width: size.width, height: size.height };
}

/** True when {@link fitImage} gave no image. */
export function isRefusal(result: FittedImage | ImageRefusal): result is ImageRefusal {
  return 'refused' in result;
}

function megapixels(pixels: number): number {
  return Number((pixels / 1e6).toPrecision(3));
}

function decodePng(bytes: Buffer): Bitmap {
  const header = pngHeader(bytes)!;
  if (header.interlaced) {
    // Why: pngjs bounds the inflate of plain PNGs by the header size, but not of interlaced
    // ones; a few KB of zlib can expand to gigabytes. Inflate once with a cap to find out.
    const data = pngImageData(bytes);
    if (!data) throw new Error('cut short: no complete image data');
    try {
      inflateSync(data, { maxOutputLength: pngInflatedLimit(header) });
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      throw tooLarge ? new Error('its data inflates beyond the size its header gives') : error;
    }
  }
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, pixels: png.data };
}

function decodeJpeg(bytes: Buffer, maxPixels: number): Bitmap {
  // A second guard behind the header check: jpeg-js refuses frames above the resolution, and
  // sampling factors that inflate its buffers beyond ~24 bytes a pixel (RGBA out + 3 planes).
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: maxPixels / 1e6,
    maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 24) / 2 ** 20)),
  });
  return { width: decoded.width, height: decoded.height, pixels: decoded.data };
}

/** Area-averaging downscale: each target pixel is the mean of the source pixels it covers. */
export function resize(source: Bitmap, width: number, height: number): Bitmap {
  const pixels = new Uint8Array(width * height * 4);
  const xRatio = source.width / width;
  const yRatio = source.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * yRatio);
    const y1 = Math.max(y0 + 1, Math.min(source.height, Math.floor((y + 1) * yRatio)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * xRatio);
      const x1 = Math.max(x0 + 1, Math.min(source.width, Math.floor((x + 1) * xRatio)));
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = y0; sy < y1; sy++) {
        let offset = (sy * source.width + x0) * 4;
        for (let sx = x0; sx < x1; sx++, offset += 4) {
          r += source.pixels[offset]!;
          g += source.pixels[offset + 1]!;
          b += source.pixels[offset + 2]!;
          a += source.pixels[offset + 3]!;
        }
      }
      const count = (y1 - y0) * (x1 - x0);
      const target = (y * width + x) * 4;
      pixels[target] = r / count;
      pixels[target + 1] = g / count;
      pixels[target + 2] = b / count;
      pixels[target + 3] = a / count;
    }
  }
  return { width, height, pixels };
}

/** JPEG has no alpha: composite onto white, as a notebook page would show it. */
function onWhite(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const alpha = rgba[i + 3]! / 255;
    out[i] = rgba[i]! * alpha + 255 * (1 - alpha);
    out[i + 1] = rgba[i + 1]! * alpha + 255 * (1 - alpha);
    out[i + 2] = rgba[i + 2]! * alpha + 255 * (1 - alpha);
    out[i + 3] = 255;
  }
  return out;
}
