import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { plotChoice, sweepPlotPng } from '../../src/sweeps/plot.js';
import { SCRAP_MIME } from '../../src/sweeps/recordHelper.js';
import { countStates, resultRow, resultsCsv, writeResults, type ResultRow } from '../../src/sweeps/results.js';
import { scrapsOf } from '../../src/sweeps/scraps.js';

const scrap = (name: string, data: unknown, encoder = 'json') => ({
  output_type: 'display_data',
  metadata: {},
  data: { [SCRAP_MIME]: { name, data, encoder, version: 1 } },
});

test('recorded values: scrapbook displays by name, the later winning, other encoders skipped', () => {
  const notebook = {
    cells: [
      { cell_type: 'code', outputs: [scrap('loss', 0.5), { output_type: 'stream', name: 'stdout', text: 'x' }] },
      { cell_type: 'markdown' },
      { cell_type: 'code', outputs: [scrap('loss', 0.25), scrap('frame', 'AAAA', 'pandas'), scrap('tags', ['a'])] },
    ],
  };
  assert.deepEqual(scrapsOf(notebook), { loss: 0.25, tags: ['a'] });
  assert.deepEqual(scrapsOf({ nbformat: 4 }), {});
});

const row = (
  index: number,
  parameters: Record<string, unknown>,
  status: ResultRow['status'],
  values: Record<string, unknown> = {},
  error?: string,
): ResultRow =>
  resultRow(
    { index, parameters, notebookPath: `/x/run-${index}.ipynb` },
    { index, state: status, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:02.500Z', node: 'n1', error },
    values,
  );

test('a row: duration in seconds, missing fields null', () => {
  const r = row(3, { lr: 0.1 }, 'completed', { loss: 1 });
  assert.equal(r.duration_s, 2.5);
  assert.equal(r.array_task_id, null);
  assert.equal(resultRow({ index: 0, parameters: {}, notebookPath: 'a' }, undefined, {}).status, 'pending');
});

test('results.csv: index, parameters, status, duration, node, task id, error, values; quoted where needed', () => {
  const rows = [row(0, { lr: 0.1, name: 'a,b' }, 'completed', { loss: 0.5 }), row(1, { lr: 0.01, name: 'say "hi"' }, 'failed', {}, 'ValueError: x, y')];
  assert.equal(
    resultsCsv(rows),
    'index,lr,name,status,duration_s,node,array_task_id,error,loss\r\n0,0.1,"a,b",completed,2.5,n1,,,0.5\r\n1,0.01,"say ""hi""",failed,2.5,n1,,"ValueError: x, y",\r\n',
  );
  assert.deepEqual(countStates(rows), { pending: 0, running: 0, completed: 1, failed: 1, cancelled: 0, timeout: 0 });
});

test('results.json and results.csv are written in the experiment folder', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sweep-results-'));
  await writeResults(dir, 'abcd1234', [row(0, { a: 1 }, 'completed', { v: [1, 2] })]);
  const json = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as { sweep_id: string; runs: ResultRow[] };
  assert.equal(json.sweep_id, 'abcd1234');
  assert.deepEqual(json.runs[0]?.values, { v: [1, 2] });
  assert.match(await readFile(path.join(dir, 'results.csv'), 'utf8'), /^index,a,.*,v\r\n0,1,completed,.*,"\[1,2\]"\r\n$/);
});

test('the plot: the first numeric value against the parameter that varies most, as a PNG', async () => {
  const rows = [0.1, 0.01, 0.001].flatMap((lr, i) => [1, 2].map((seed, j) => row(i * 2 + j, { seed, lr }, 'completed', { name: 'x', loss: lr * seed })));
  assert.deepEqual(plotChoice(rows), { value: 'loss', parameter: 'lr' });
  const png = await sweepPlotPng(rows);
  const meta = await sharp(Buffer.from(png!.data, 'base64')).metadata();
  assert.equal(meta.format, 'png');
  assert.ok(meta.width! > 100 && meta.height! > 100);
  assert.equal(await sweepPlotPng([row(0, { a: 1 }, 'completed', { name: 'x' })]), undefined, 'no numeric value, no plot');
});
