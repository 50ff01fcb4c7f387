// `npm run bench` must leave the working tree clean: everything a run writes is ignored by git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RESULTS_DIR, writeResults, type BenchReport } from '../../bench/lib/report.js';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('bench results', () => {
  it('go only to files git ignores', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-results-'));
    try {
      const report = {
        mode: 'full',
        startedAt: '2026-11-26T05:00:00.000Z',
        durationS: 1,
        commit: 'abc',
        figures: [],
        errors: [],
        notes: [],
        raw: {},
        machine: { cpu: 'x', nproc: 2, memGb: 1, kernel: 'k', node: 'v', jupyterServer: '1', ipykernel: '1', nbclient: '1', python: '3', loadavg: '0 0 0' },
      } as unknown as BenchReport;
      const written = await writeResults(tmp, report);
      assert.ok(
        written.some((f) => f.endsWith('LATEST.md')),
        'a full run writes LATEST.md',
      );
      const inRepo = written.map((f) => path.relative(REPO, path.join(RESULTS_DIR, path.basename(f))));
      // --no-index: the rules alone, whether or not an old copy is still tracked.
      const ignored = execFileSync('git', ['check-ignore', '--no-index', ...inRepo], { cwd: REPO, encoding: 'utf8' })
        .trim()
        .split('\n');
      assert.deepEqual(ignored, inRepo);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
