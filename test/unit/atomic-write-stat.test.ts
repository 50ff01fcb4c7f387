import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stillHolds, writeFileAtomic } from '../../src/notebook/atomicWrite.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function target(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-write-stat-'));
  dirs.push(dir);
  return path.join(dir, 'nb.ipynb');
}

describe('what a write leaves on record (the stat a later save compares against)', () => {
  it('the file as written: its stat now (the rename changed only the ctime)', async () => {
    const file = await target();
    const written = await writeFileAtomic(file, '{"ours": 1}\n');
    const now = await stat(file, { bigint: true });
    assert.equal(written.ino, now.ino);
    assert.equal(written.size, now.size);
    assert.equal(written.mtimeNs, now.mtimeNs);
    assert.equal(stillHolds(file, written).ctimeNs, now.ctimeNs, 'the stat of the file in place, ctime included');
  });

  it('someone wrote over it right after our rename: the stat of what we wrote, so that their version reads as a change', async () => {
    const file = await target();
    const written = await writeFileAtomic(file, '{"ours": 1}\n');
    await writeFile(file, '{"theirs": 22}\n'); // in place, as an editor or a script does
    const recorded = stillHolds(file, written);
    assert.equal(recorded, written);
    const now = await stat(file, { bigint: true });
    assert.ok(recorded.size !== now.size || recorded.mtimeNs !== now.mtimeNs, 'their write differs from what is on record');
  });
});
