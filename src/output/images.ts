import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface ImageLimits {
  /** Longest edge, in pixels, of an image the agent gets. */
  maxEdge: number;
  /** Size, in bytes (decoded, not base64), of an image the agent gets. */
  maxBytes: number;
}

export interface FittedImage {
  data: string;
  mimeType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  /** True when the agent's copy differs from the original (scaled or re-encoded). */
  changed: boolean;
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
 * until it fits. Undefined when it cannot be decoded or made to fit.
 */
export function fitImage(base64: string, mimeType: 'image/png' | 'image/jpeg', limits: ImageLimits): FittedImage | undefined {
  const bytes = Buffer.from(base64, 'base64');
  let bitmap: Bitmap;
  try {
    if (mimeType === 'image/png') {
      const size = pngSize(bytes);
      if (size && bytes.length <= limits.maxBytes && Math.max(size.width, size.height) <= limits.maxEdge) {
        return { data: base64, mimeType, ...size, changed: false };
      }
      const png = PNG.sync.read(bytes);
      bitmap = { width: png.width, height: png.height, pixels: png.data };
    } else {
      const decoded = jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512, formatAsRGBA: true });
      if (bytes.length <= limits.maxBytes && Math.max(decoded.width, decoded.height) <= limits.maxEdge) {
        return { data: base64, mimeType, width: decoded.width, height: decoded.height, changed: false };
      }
      bitmap = { width: decoded.width, height: decoded.height, pixels: decoded.data };
    }
  } catch {
    return undefined;
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
  return undefined;
}

/** Width and height from a PNG's IHDR chunk, without decoding. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
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
