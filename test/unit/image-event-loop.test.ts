import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { budgetAgentParts } from '../../src/output/agentContent.js';
import { fitImage, type FittedImage } from '../../src/output/images.js';

/** A 4000×4000 RGB PNG of noise: ~48 MB that no encoder shrinks, the worst figure to scale. */
async function bigNoisyPng(): Promise<string> {
  const size = 4000;
  const png = await sharp(randomBytes(size * size * 3), { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return png.toString('base64');
}

/** Runs `work` while a timer ticks every millisecond; the ticks seen and the longest gap between them. */
async function whileTicking<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number; longestGapMs: number; totalMs: number }> {
  let ticks = 0;
  let last = performance.now();
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 1);
  const started = performance.now();
  try {
    const result = await work();
    const now = performance.now();
    return { result, ticks, longestGapMs: Math.max(longestGapMs, now - last), totalMs: now - started };
  } finally {
    clearInterval(timer);
  }
}

describe('the agent copy of an image does not block the event loop', () => {
  it('timers keep firing while a 4000×4000 noisy PNG is scaled and re-encoded', async () => {
    const png = await bigNoisyPng();
    const { result, ticks, longestGapMs, totalMs } = await whileTicking(() => fitImage(png, 'image/png', { maxEdge: 1024, maxBytes: 262_144 }));
    const fitted = result as FittedImage;
    assert.equal(fitted.changed, true);
    assert.ok(Math.max(fitted.width, fitted.height) <= 1024);
    assert.ok(Buffer.from(fitted.data, 'base64').length <= 262_144);
    // Done synchronously (as pngjs did), no tick would fire until the end: one gap as long as the whole.
    assert.ok(ticks >= 5, `only ${ticks} timer ticks in ${totalMs.toFixed(0)} ms of conversion`);
    assert.ok(longestGapMs < totalMs / 2, `the event loop stalled for ${longestGapMs.toFixed(0)} of ${totalMs.toFixed(0)} ms`);
  });

  it('a reply with no images is answered while another cell’s large figure is being made', async () => {
    const png = await bigNoisyPng();
    const limits = { maxEdge: 1024, maxBytes: 262_144 };
    const order: string[] = [];
    const figure = budgetAgentParts(
      { text: '', images: [{ type: 'image', mimeType: 'image/png', data: png }] },
      { textBudget: 1000, maxImages: 1, cellLabel: 'cell 1', imageLimits: limits },
    ).then(() => order.push('figure'));
    const plain = new Promise((resolve) => setTimeout(resolve, 5)).then(async () => {
      await budgetAgentParts({ text: '2\n', images: [] }, { textBudget: 1000, maxImages: 1, cellLabel: 'cell 2', imageLimits: limits });
      order.push('plain');
    });
    await Promise.all([figure, plain]);
    assert.deepEqual(order, ['plain', 'figure']);
  });
});
