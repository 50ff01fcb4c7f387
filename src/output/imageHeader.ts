/**
 * Image dimensions read from the file header, without decoding: the pixel cap is checked on
 * these before any decoder allocates a bitmap. Pure functions; every read is bounds-checked,
 * so truncated or garbage input yields undefined, never an exception.
 */

export interface ImageSize {
  /** Pixels. */
  width: number;
  /** Pixels. */
  height: number;
}

export interface PngHeader extends ImageSize {
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** The IHDR fields of a PNG (signature, then IHDR as the first chunk, as the spec requires). */
export function pngHeader(bytes: Uint8Array): PngHeader | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 29 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  if (buf.readUInt32BE(8) !== 13 || buf.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const colorType = buf[25]!;
  if (PNG_CHANNELS[colorType] === undefined) return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), bitDepth: buf[24]!, colorType, interlaced: buf[28] === 1 };
}

/**
 * The most bytes a PNG's image data may inflate to: the filtered scanlines of all seven Adam7
 * passes (or the one plain pass), each with its filter byte. Used to bound an inflate that
 * the decoder itself does not bound (interlaced images).
 */
export function pngInflatedLimit(header: PngHeader): number {
  const bitsPerPixel = (PNG_CHANNELS[header.colorType] ?? 4) * header.bitDepth;
  // Why 4·height + 64: at most ~2·height+7 scanlines over all passes, each ≤ 2 bytes of overhead.
  return Math.ceil((header.width * header.height * bitsPerPixel) / 8) + 4 * header.height + 64;
}

/** The concatenated IDAT chunk data of a PNG (the zlib stream), or undefined if a chunk is cut. */
export function pngImageData(bytes: Uint8Array): Buffer | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Buffer[] = [];
  let offset = 8;
  while (offset + 8 <= buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > buf.length) return undefined;
    if (type === 'IDAT') parts.push(buf.subarray(offset + 8, offset + 8 + length));
    if (type === 'IEND') return Buffer.concat(parts);
    offset = end;
  }
  return parts.length > 0 ? Buffer.concat(parts) : undefined;
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers without a length field: TEM, RST0–7 (and SOI, should it repeat). */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

/**
 * Width and height from a JPEG's first SOFn segment, walking the marker segments from SOI.
 * Undefined when the scan (SOS) or the end (EOI) comes first, or the data is cut short.
 */
export function jpegSize(bytes: Uint8Array): ImageSize | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset < bytes.length) {
    // Why skip to the next 0xFF: decoders tolerate stray bytes between segments, so do we.
    while (offset < bytes.length && bytes[offset] !== 0xff) offset++;
    while (offset < bytes.length && bytes[offset] === 0xff) offset++; // fill bytes
    if (offset >= bytes.length) return undefined;
    const marker = bytes[offset++]!;
    if (isStandalone(marker)) continue;
    if (marker === 0x00 || marker === 0xd9 || marker === 0xda) return undefined;
    if (offset + 2 > bytes.length) return undefined;
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      if (length < 7 || offset + 7 > bytes.length) return undefined;
      return { height: (bytes[offset + 3]! << 8) | bytes[offset + 4]!, width: (bytes[offset + 5]! << 8) | bytes[offset + 6]! };
    }
    offset += length;
  }
  return undefined;
}
