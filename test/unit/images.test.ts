import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { fitImage, isRefusal, type FittedImage, type ImageRefusal } from '../../src/output/images.js';
import { jpegSize, pngHeader, pngImageData, pngInflatedLimit } from '../../src/output/imageHeader.js';
import { budgetAgentParts } from '../../src/output/agentContent.js';

/** Made by fixtures/images/make-fixtures.py (Pillow, and a hand-written Adam7 encoder). */
const PROGRESSIVE_JPEG = readFileSync(new URL('fixtures/images/progressive-exif-37x23.jpg', import.meta.url));
const INTERLACED_PNG = readFileSync(new URL('fixtures/images/interlaced-19x41.png', import.meta.url));

/** RGBA pixels: a horizontal gradient, or noise (which no encoder can shrink much). */
function pixels(width: number, height: number, noisy = false): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    data[i * 4] = noisy ? (Math.random() * 255) | 0 : (x * 255) / width;
    data[i * 4 + 1] = noisy ? (Math.random() * 255) | 0 : 100;
    data[i * 4 + 2] = noisy ? (Math.random() * 255) | 0 : 200;
    data[i * 4 + 3] = 255;
  }
  return data;
}

async function makePng(width: number, height: number, noisy = false): Promise<string> {
  const png = await sharp(pixels(width, height, noisy), { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return png.toString('base64');
}

/** Width and height as a decoder reads them, and the format. */
async function decodedSize(base64: string): Promise<[number, number, string]> {
  const { info } = await sharp(Buffer.from(base64, 'base64')).raw().toBuffer({ resolveWithObject: true });
  const { format } = await sharp(Buffer.from(base64, 'base64')).metadata();
  return [info.width, info.height, format];
}

describe('fitImage', () => {
  it('passes a small image through untouched', async () => {
    const small = await makePng(300, 200);
    const fitted = await fitImage(small, 'image/png', { maxEdge: 1024, maxBytes: 1_000_000 });
    assert.deepEqual(fitted, { data: small, mimeType: 'image/png', width: 300, height: 200, changed: false });
  });

  it('scales a large image to the max edge, keeping the aspect ratio', async () => {
    const fitted = (await fitImage(await makePng(2000, 1000), 'image/png', { maxEdge: 500, maxBytes: 1_000_000 })) as FittedImage;
    assert.equal(fitted.changed, true);
    assert.equal(fitted.mimeType, 'image/png');
    assert.deepEqual([fitted.width, fitted.height], [500, 250]);
    assert.deepEqual(await decodedSize(fitted.data), [500, 250, 'png']);
  });

  it('falls back to JPEG, then smaller sizes, to meet the byte budget', async () => {
    const noisy = await makePng(800, 800, true);
    const fitted = (await fitImage(noisy, 'image/png', { maxEdge: 800, maxBytes: 60_000 })) as FittedImage;
    assert.ok(Buffer.from(fitted.data, 'base64').length <= 60_000);
    assert.equal(fitted.mimeType, 'image/jpeg');
    assert.deepEqual(await decodedSize(fitted.data), [fitted.width, fitted.height, 'jpeg']);
  });

  it('refuses undecodable data, saying why', async () => {
    const result = await fitImage(Buffer.from('not an image').toString('base64'), 'image/png', { maxEdge: 10, maxBytes: 10 });
    assert.deepEqual(result, { refused: true, reason: 'not a readable PNG (no valid header)' });
  });

  it('the agent view notes scaled images and where the originals are', async () => {
    const content = await budgetAgentParts(
      { text: '', images: [{ type: 'image', mimeType: 'image/png', data: await makePng(1200, 600) }] },
      { textBudget: 1000, maxImages: 2, cellLabel: 'cell 4', imageLimits: { maxEdge: 300, maxBytes: 500_000 } },
    );
    assert.match((content[0] as { text: string }).text, /image scaled to 300×150 for you; the originals are in cell 4 of the notebook/);
    assert.deepEqual(await decodedSize((content[1] as { data: string }).data), [300, 150, 'png']);
  });
});

/** One PNG chunk with a correct CRC, so that a decoder would accept it. */
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose IHDR claims `width`×`height` (RGBA8) but whose image data is `idat`. */
function craftedPng(width: number, height: number, idat: Buffer, interlaced = false): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, interlaced ? 1 : 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A JPEG with only SOI, one SOF0 segment claiming `width`×`height`, and EOI. */
function craftedJpeg(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

function realJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Deterministic garbage (xorshift), so a failure can be replayed. */
function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

function refusal(result: FittedImage | ImageRefusal): ImageRefusal {
  assert.ok(isRefusal(result), `expected a refusal, got ${JSON.stringify({ ...result, data: undefined })}`);
  return result;
}

describe('pngHeader', () => {
  it('reads size, depth, colour type and interlace from real PNGs', async () => {
    assert.deepEqual(pngHeader(Buffer.from(await makePng(300, 7), 'base64')), { width: 300, height: 7, bitDepth: 8, colorType: 6, interlaced: false });
    assert.deepEqual(pngHeader(INTERLACED_PNG), { width: 19, height: 41, bitDepth: 8, colorType: 6, interlaced: true });
  });

  it('reads a header claiming 100000×100000 without looking at the body', async () => {
    assert.deepEqual(pngHeader(craftedPng(100_000, 100_000, Buffer.from('x'))), {
      width: 100_000,
      height: 100_000,
      bitDepth: 8,
      colorType: 6,
      interlaced: false,
    });
  });

  it('gives undefined, never throws, for every truncation and for garbage', async () => {
    const png = Buffer.from(await makePng(5, 5), 'base64');
    for (let cut = 0; cut < 29; cut++) assert.equal(pngHeader(png.subarray(0, cut)), undefined, `cut at ${cut}`);
    assert.ok(pngHeader(png.subarray(0, 29)));
    for (let seed = 1; seed < 200; seed++) assert.equal(pngHeader(garbage(64, seed)), undefined);
    assert.equal(pngHeader(await realJpeg(8, 8)), undefined);
    const notIhdr = Buffer.from(png);
    notIhdr.write('IDAT', 12, 'latin1');
    assert.equal(pngHeader(notIhdr), undefined);
    const badColour = Buffer.from(png);
    badColour[25] = 5;
    assert.equal(pngHeader(badColour), undefined);
  });

  it('collects the image data across IDAT chunks; undefined when a chunk is cut', async () => {
    const idat = deflateSync(Buffer.alloc(100));
    const png = craftedPng(4, 4, idat);
    assert.deepEqual(pngImageData(png), idat);
    assert.equal(pngImageData(png.subarray(0, 40)), undefined);
    assert.deepEqual(pngImageData(INTERLACED_PNG)?.length, INTERLACED_PNG.readUInt32BE(33));
  });

  it('bounds the inflated size of an interlaced image by its header', async () => {
    const header = pngHeader(INTERLACED_PNG)!;
    // The fixture's real inflated data must fit under the bound.
    const scanlineBytes = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ]
      .map(([x0, y0, dx, dy]) => {
        const cols = Math.ceil((19 - x0!) / dx!);
        const rows = Math.ceil((41 - y0!) / dy!);
        return cols > 0 && rows > 0 ? rows * (1 + cols * 4) : 0;
      })
      .reduce((a, b) => a + b, 0);
    assert.ok(scanlineBytes <= pngInflatedLimit(header));
    assert.ok(pngInflatedLimit(header) < 19 * 41 * 4 + 41 * 4 + 65);
  });
});

describe('jpegSize', () => {
  it('reads the size of a baseline JPEG (libjpeg, through sharp) and a progressive one behind Exif (Pillow)', async () => {
    assert.deepEqual(jpegSize(await realJpeg(33, 17)), { width: 33, height: 17 });
    assert.deepEqual(jpegSize(PROGRESSIVE_JPEG), { width: 37, height: 23 });
    assert.equal(PROGRESSIVE_JPEG.indexOf(Buffer.from([0xff, 0xc2])) > 0, true, 'the fixture is progressive (SOF2)');
  });

  it('reads 65535×65535 from a crafted header, skipping fill bytes, restart markers and DHT', async () => {
    const header = craftedJpeg(65_535, 65_535);
    const dht = Buffer.from([0xff, 0xc4, 0, 4, 0xaa, 0xbb]);
    const tricky = Buffer.concat([header.subarray(0, 2), Buffer.from([0xff, 0xff, 0xd0]), dht, Buffer.from([0xff, 0xff]), header.subarray(2)]);
    assert.deepEqual(jpegSize(tricky), { width: 65_535, height: 65_535 });
  });

  it('gives undefined when the scan or the end comes before any frame', async () => {
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9])), undefined);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), undefined);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0x00, 0, 20])), undefined);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1])), undefined, 'a length below 2');
  });

  it('gives undefined, never throws, for every truncation before the frame size and for garbage', async () => {
    const sofEnd = PROGRESSIVE_JPEG.indexOf(Buffer.from([0xff, 0xc2])) + 9;
    for (let cut = 0; cut < sofEnd; cut++) assert.equal(jpegSize(PROGRESSIVE_JPEG.subarray(0, cut)), undefined, `cut at ${cut}`);
    for (let cut = sofEnd; cut <= PROGRESSIVE_JPEG.length; cut++) assert.deepEqual(jpegSize(PROGRESSIVE_JPEG.subarray(0, cut)), { width: 37, height: 23 });
    for (let seed = 1; seed < 500; seed++) {
      const junk = garbage(256, seed);
      junk[0] = 0xff;
      junk[1] = 0xd8;
      const size = jpegSize(junk);
      if (size) assert.ok(size.width <= 65_535 && size.height <= 65_535);
    }
    assert.equal(jpegSize(Buffer.from(await makePng(4, 4), 'base64')), undefined);
  });
});

describe('the pixel cap', () => {
  it('refuses a PNG header claiming 100000×100000 with a tiny body, without allocating', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const png = craftedPng(100_000, 100_000, deflateSync(Buffer.alloc(10)));
    const result = refusal(await fitImage(png.toString('base64'), 'image/png', { maxEdge: 1024, maxBytes: 262_144 }));
    assert.deepEqual(result, { refused: true, reason: 'above the 50 MP limit', width: 100_000, height: 100_000 });
    assert.ok(process.memoryUsage().arrayBuffers - before < 10_000_000, 'no bitmap was allocated');
  });

  it('refuses a JPEG header claiming 65535×65535, without allocating', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const result = refusal(await fitImage(craftedJpeg(65_535, 65_535).toString('base64'), 'image/jpeg', { maxEdge: 1024, maxBytes: 262_144 }));
    assert.deepEqual(result, { refused: true, reason: 'above the 50 MP limit', width: 65_535, height: 65_535 });
    assert.ok(process.memoryUsage().arrayBuffers - before < 10_000_000, 'no bitmap was allocated');
  });

  it('applies a configured cap; an image exactly at the cap is shown', async () => {
    const png = await makePng(100, 50);
    assert.deepEqual(refusal(await fitImage(png, 'image/png', { maxEdge: 1024, maxBytes: 1_000_000, maxPixels: 4_999 })), {
      refused: true,
      reason: 'above the 0.005 MP limit',
      width: 100,
      height: 50,
    });
    assert.equal(((await fitImage(png, 'image/png', { maxEdge: 1024, maxBytes: 1_000_000, maxPixels: 5_000 })) as FittedImage).changed, false);
    const jpg = (await realJpeg(100, 50)).toString('base64');
    assert.equal(refusal(await fitImage(jpg, 'image/jpeg', { maxEdge: 10, maxBytes: 1_000_000, maxPixels: 4_999 })).width, 100);
    assert.deepEqual(((await fitImage(jpg, 'image/jpeg', { maxEdge: 10, maxBytes: 1_000_000, maxPixels: 5_000 })) as FittedImage).width, 10);
  });

  it('the decoder guards too: a second frame header larger than the first is refused while decoding', async () => {
    const real = await realJpeg(16, 16);
    const sos = real.indexOf(Buffer.from([0xff, 0xda]));
    const hostile = Buffer.concat([real.subarray(0, sos), craftedJpeg(10_000, 6_000).subarray(2, 15), real.subarray(sos)]);
    assert.deepEqual(jpegSize(hostile), { width: 16, height: 16 }, 'the header parser reads the first frame');
    const result = refusal(await fitImage(hostile.toString('base64'), 'image/jpeg', { maxEdge: 8, maxBytes: 1_000_000 }));
    assert.match(result.reason, /^JPEG could not be decoded \(.*two SOF markers/);
  });

  it('refuses an interlaced PNG whose data inflates far beyond its header (a zip bomb)', async () => {
    const bomb = craftedPng(10, 10, deflateSync(Buffer.alloc(20_000_000)), true);
    assert.ok(bomb.length < 100_000);
    const result = refusal(await fitImage(bomb.toString('base64'), 'image/png', { maxEdge: 5, maxBytes: 1_000_000 }));
    assert.equal(result.reason, 'PNG could not be decoded (its data inflates beyond the size its header gives)');
  });

  it('refuses a PNG or JPEG cut short in its image data, saying the decoder failed', async () => {
    const png = Buffer.from(await makePng(400, 300, true), 'base64');
    const jpg = await sharp(pixels(400, 300, true), { raw: { width: 400, height: 300, channels: 4 } })
      .jpeg()
      .toBuffer();
    for (const [bytes, mimeType, kind] of [
      [png, 'image/png', 'PNG'],
      [jpg, 'image/jpeg', 'JPEG'],
    ] as const) {
      const cut = bytes.subarray(0, Math.floor(bytes.length / 2)).toString('base64');
      const result = refusal(await fitImage(cut, mimeType, { maxEdge: 100, maxBytes: 1_000_000 }));
      assert.deepEqual([result.width, result.height], [400, 300]);
      assert.match(result.reason, new RegExp(`^${kind} could not be decoded \\(.+\\)$`));
    }
  });

  it('still decodes and scales real interlaced PNGs and progressive JPEGs', async () => {
    const png = (await fitImage(INTERLACED_PNG.toString('base64'), 'image/png', { maxEdge: 10, maxBytes: 1_000_000 })) as FittedImage;
    assert.deepEqual([png.changed, png.width, png.height], [true, 5, 10]);
    const jpg = (await fitImage(PROGRESSIVE_JPEG.toString('base64'), 'image/jpeg', { maxEdge: 20, maxBytes: 1_000_000 })) as FittedImage;
    assert.deepEqual([jpg.changed, jpg.width, jpg.height], [true, 20, 12]);
  });

  it('the agent view says which figure was not shown, its size, why, and where it is', async () => {
    const huge = craftedPng(40_000, 40_000, deflateSync(Buffer.alloc(10))).toString('base64');
    const content = await budgetAgentParts(
      {
        text: 'before\n',
        images: [
          { type: 'image', mimeType: 'image/png', data: await makePng(20, 20), figure: 1 },
          { type: 'image', mimeType: 'image/png', data: huge, figure: 2 },
          { type: 'image', mimeType: 'image/jpeg', data: Buffer.from('junk').toString('base64'), figure: 3 },
        ],
      },
      { textBudget: 1000, maxImages: 4, cellLabel: 'cell 7', imageLimits: { maxEdge: 300, maxBytes: 500_000 } },
    );
    assert.deepEqual(
      content.map((block) => block.type),
      ['text', 'image'],
    );
    assert.equal(
      (content[0] as { text: string }).text,
      'before\n[figure 2 (40000×40000 px) not shown: above the 50 MP limit; it is in cell 7 of the notebook]\n' +
        '[figure 3 not shown: not a readable JPEG (no valid header); it is in cell 7 of the notebook]',
    );
    assert.deepEqual(Object.keys(content[1]!).sort(), ['data', 'mimeType', 'type'], 'no bookkeeping fields reach the agent');
  });
});
