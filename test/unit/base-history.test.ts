import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BaseHistory, revisionOf, stampRevision, type StampedBase } from '../../src/notebook/baseHistory.js';

/** A base of `cells` cells whose texts are shared with `from` (same strings) except those in `changed`. */
function base(revision: number, cells: number, from?: StampedBase, changed: number[] = [], size = 10): StampedBase {
  return {
    revision,
    shell: '{}',
    cells: Array.from({ length: cells }, (_, i) =>
      from?.cells[i] && !changed.includes(i) ? from.cells[i]! : { id: `c${i}`, text: `${revision}:${i}`.padEnd(size, '.') },
    ),
  };
}

describe('revision stamp (notebook metadata jlab_mcp.revision)', () => {
  it('is read back, keeps the other jlab_mcp keys, and ignores what is not a counter', () => {
    const metadata: Record<string, unknown> = { jlab_mcp: { environments: [{ id: 'e' }] } };
    const before = metadata.jlab_mcp;
    stampRevision(metadata, 7);
    assert.deepEqual(metadata.jlab_mcp, { environments: [{ id: 'e' }], revision: 7 });
    assert.notEqual(metadata.jlab_mcp, before, 'a new object: a holder of the old one does not see it change');
    assert.equal(revisionOf(metadata), 7);
    for (const bad of [undefined, {}, { jlab_mcp: 'x' }, { jlab_mcp: { revision: '7' } }, { jlab_mcp: { revision: -1 } }, { jlab_mcp: { revision: 1.5 } }]) {
      assert.equal(revisionOf(bad as Record<string, unknown> | undefined), undefined, JSON.stringify(bad));
    }
  });
});

describe('BaseHistory (the states a stale copy may come from)', () => {
  it('selects the exact revision, else the newest older one, else none in common (an empty base); a newer one is not ours', () => {
    const history = new BaseHistory();
    for (const revision of [3, 5, 9]) history.add(base(revision, 2));
    assert.equal(history.select(5)?.revision, 5);
    assert.equal(history.select(7)?.revision, 5, 'thinned away: the nearest older state (more looks changed by both, nothing is lost)');
    assert.deepEqual(
      history.select(1),
      { revision: 1, shell: '{}', cells: [] },
      'older than all kept: no common ancestor known (the oldest is newer than their copy)',
    );
    assert.equal(history.select(10), undefined, 'newer than any: the caller uses its latest');
  });

  it('a state recorded again under its revision replaces the old one (their editor saved on top of it)', () => {
    const history = new BaseHistory();
    history.add(base(1, 2));
    history.add(base(2, 2));
    const theirs = base(1, 3);
    history.add(theirs);
    assert.deepEqual(history.revisions(), [2, 1]);
    assert.equal(history.select(1)?.cells, theirs.cells);
  });

  it('keeps the newest few and thins the older ones so that their ages spread out', () => {
    let now = 0;
    const history = new BaseHistory({ count: 8, recent: 3, chars: Infinity }, () => now);
    let last: StampedBase | undefined;
    for (let revision = 1; revision <= 200; revision++) {
      now = revision * 1000; // one save a second
      last = base(revision, 5, last, [revision % 5]);
      history.add(last);
    }
    const kept = history.revisions();
    assert.equal(kept.length, 8);
    assert.deepEqual(kept.slice(-3), [198, 199, 200], 'the newest are all there');
    assert.ok(kept[0]! < 100, `an old state is still there: ${kept.join(', ')}`);
    const gaps = kept.slice(1).map((revision, i) => revision - kept[i]!);
    assert.ok(gaps[0]! > gaps.at(-1)!, `older states are further apart: ${kept.join(', ')}`);
  });

  it('drops the oldest states when the text only they hold passes the bound; shared text is not counted twice', () => {
    // 100 cells of 100 characters, one changed per save: an older state holds one text (and its 100 entries, ~2,400) alone.
    const history = new BaseHistory({ count: 16, recent: 2, chars: 13_000 });
    let last = base(1, 100, undefined, [], 100);
    history.add(last);
    for (let revision = 2; revision <= 6; revision++) history.add((last = base(revision, 100, last, [revision], 100)));
    assert.equal(history.revisions().length, 6, 'five older states of one changed cell each fit');
    // A save that changed every cell: the state before it holds all its 10,000 characters alone, so the older ones go.
    history.add(
      base(
        7,
        100,
        last,
        Array.from({ length: 100 }, (_, i) => i),
        100,
      ),
    );
    assert.deepEqual(history.revisions(), [6, 7]);
    const tiny = new BaseHistory({ count: 16, recent: 2, chars: 10 });
    tiny.add(base(1, 100));
    tiny.add(base(2, 100));
    assert.deepEqual(tiny.revisions(), [2], 'the newest stays whatever it costs');
  });

  it('counts shared texts by cell id when cells were inserted (not by position)', () => {
    const history = new BaseHistory({ count: 16, recent: 1, chars: 3000 });
    const first = base(1, 100, undefined, [], 20);
    history.add(first);
    history.add({ revision: 2, shell: '{}', cells: [{ id: 'new', text: 'x' }, ...first.cells] });
    assert.deepEqual(history.revisions(), [1, 2], 'revision 1 shares every text with 2 (~2,400 counted for its entries)');
  });
});
