import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { fitImage, resize } from '../../src/output/images.js';
import { budgetAgentParts } from '../../src/output/agentContent.js';

function makePng(width: number, height: number, noisy = false): string {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    png.data[i * 4] = noisy ? (Math.random() * 255) | 0 : (x * 255) / width;
    png.data[i * 4 + 1] = noisy ? (Math.random() * 255) | 0 : 100;
    png.data[i * 4 + 2] = noisy ? (Math.random() * 255) | 0 : 200;
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png).toString('base64');
}

function pngDims(base64: string): [number, number] {
  const png = PNG.sync.read(Buffer.from(base64, 'base64'));
  return [png.width, png.height];
}

describe('fitImage', () => {
  it('passes a small image through untouched', () => {
    const small = makePng(300, 200);
    const fitted = fitImage(small, 'image/png', { maxEdge: 1024, maxBytes: 1_000_000 });
    assert.deepEqual(fitted, { data: small, mimeType: 'image/png', width: 300, height: 200, changed: false });
  });

  it('scales a large image to the max edge, keeping the aspect ratio', () => {
    const fitted = fitImage(makePng(2000, 1000), 'image/png', { maxEdge: 500, maxBytes: 1_000_000 })!;
    assert.equal(fitted.changed, true);
    assert.equal(fitted.mimeType, 'image/png');
    assert.deepEqual([fitted.width, fitted.height], [500, 250]);
    assert.deepEqual(pngDims(fitted.data), [500, 250]);
  });

  it('falls back to JPEG, then smaller sizes, to meet the byte budget', () => {
    const noisy = makePng(800, 800, true);
    const fitted = fitImage(noisy, 'image/png', { maxEdge: 800, maxBytes: 60_000 })!;
    assert.ok(Buffer.from(fitted.data, 'base64').length <= 60_000);
    assert.equal(fitted.mimeType, 'image/jpeg');
    const decoded = jpeg.decode(Buffer.from(fitted.data, 'base64'));
    assert.deepEqual([decoded.width, decoded.height], [fitted.width, fitted.height]);
  });

  it('gives up on undecodable data', () => {
    assert.equal(fitImage(Buffer.from('not an image').toString('base64'), 'image/png', { maxEdge: 10, maxBytes: 10 }), undefined);
  });

  it('resize averages areas', () => {
    const source = { width: 2, height: 1, pixels: new Uint8Array([0, 0, 0, 255, 200, 100, 50, 255]) };
    assert.deepEqual([...resize(source, 1, 1).pixels], [100, 50, 25, 255]);
  });

  it('the agent view notes scaled images and where the originals are', () => {
    const content = budgetAgentParts(
      { text: '', images: [{ type: 'image', mimeType: 'image/png', data: makePng(1200, 600) }] },
      { textBudget: 1000, maxImages: 2, cellLabel: 'cell 4', imageLimits: { maxEdge: 300, maxBytes: 500_000 } },
    );
    assert.match((content[0] as { text: string }).text, /image scaled to 300×150 for you; the originals are in cell 4 of the notebook/);
    assert.deepEqual(pngDims((content[1] as { data: string }).data), [300, 150]);
  });
});
