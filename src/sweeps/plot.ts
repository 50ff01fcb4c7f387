import sharp from 'sharp';
import type { ResultRow } from './results.js';

const WIDTH = 480;
const HEIGHT = 300;
const MARGIN = { left: 60, right: 20, top: 30, bottom: 45 };

/** What a sweep's plot shows: the first numeric recorded value against the parameter with the most distinct values. */
export function plotChoice(rows: readonly ResultRow[]): { value: string; parameter: string } | undefined {
  const value = [...new Set(rows.flatMap((row) => Object.keys(row.values)))].find((name) =>
    rows.some((row) => typeof row.values[name] === 'number' && Number.isFinite(row.values[name])),
  );
  if (!value) return undefined;
  const names = [...new Set(rows.flatMap((row) => Object.keys(row.parameters)))];
  const distinct = (name: string) => new Set(rows.map((row) => JSON.stringify(row.parameters[name]))).size;
  const parameter = names.sort((a, b) => distinct(b) - distinct(a))[0];
  return parameter ? { value, parameter } : undefined;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function tick(value: number): string {
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-2 && value !== 0) ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

/**
 * The plot as SVG: one point per run that recorded the value; numeric parameters on a linear
 * axis (log when all positive and spanning over two decades, as learning rates do), others as
 * evenly spaced categories.
 */
export function sweepPlotSvg(rows: readonly ResultRow[], choice: { value: string; parameter: string }): string {
  const points = rows
    .filter((row) => typeof row.values[choice.value] === 'number' && Number.isFinite(row.values[choice.value]))
    .map((row) => ({ x: row.parameters[choice.parameter], y: row.values[choice.value] as number }));
  const numericX = points.every((point) => typeof point.x === 'number');
  const categories = numericX ? [] : [...new Set(points.map((point) => JSON.stringify(point.x ?? null)))];
  const xs = numericX ? points.map((point) => point.x as number) : [];
  const logX = numericX && xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) > 100;
  const fx = (x: unknown): number => (numericX ? (logX ? Math.log10(x as number) : (x as number)) : categories.indexOf(JSON.stringify(x ?? null)));
  const xValues = points.map((point) => fx(point.x));
  const [x0, x1] = spread(Math.min(...xValues), Math.max(...xValues));
  const [y0, y1] = spread(Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.y)));
  const px = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * (WIDTH - MARGIN.left - MARGIN.right);
  const py = (y: number) => HEIGHT - MARGIN.bottom - ((y - y0) / (y1 - y0)) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const dots = points.map((point) => `<circle cx="${px(fx(point.x)).toFixed(1)}" cy="${py(point.y).toFixed(1)}" r="4" fill="#1f77b4" fill-opacity="0.8"/>`);
  const xTicks = numericX
    ? [...new Set(xs)].slice(0, 12).map((x) => [px(fx(x)), tick(x)] as const)
    : categories.slice(0, 12).map((label, i) => [px(i), label.replace(/^"|"$/g, '').slice(0, 12)] as const);
  const yTicks = [0, 0.5, 1].map((t) => [py(y0 + t * (y1 - y0)), tick(y0 + t * (y1 - y0))] as const);
  const text = (x: number, y: number, label: string, anchor = 'middle') =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="11" font-family="sans-serif" text-anchor="${anchor}">${escapeXml(label)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<line x1="${MARGIN.left}" y1="${HEIGHT - MARGIN.bottom}" x2="${WIDTH - MARGIN.right}" y2="${HEIGHT - MARGIN.bottom}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${HEIGHT - MARGIN.bottom}" stroke="black"/>`,
    ...xTicks.map(([x, label]) => text(x, HEIGHT - MARGIN.bottom + 15, label)),
    ...yTicks.map(([y, label]) => text(MARGIN.left - 5, y + 4, label, 'end')),
    text((WIDTH + MARGIN.left) / 2, HEIGHT - 8, `${choice.parameter}${logX ? ' (log)' : ''}`),
    text(WIDTH / 2, 18, `${choice.value} by ${choice.parameter}`),
    ...dots,
    '</svg>',
  ].join('\n');
}

/** A range with room around it (a single value gets ±1, or ±10 %). */
function spread(min: number, max: number): [number, number] {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

/** The plot as a PNG, base64; undefined when no numeric value was recorded. */
export async function sweepPlotPng(rows: readonly ResultRow[]): Promise<{ data: string; value: string; parameter: string } | undefined> {
  const choice = plotChoice(rows);
  if (!choice) return undefined;
  const png = await sharp(Buffer.from(sweepPlotSvg(rows, choice)))
    .png()
    .toBuffer();
  return { data: png.toString('base64'), ...choice };
}
