import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JupyterBackend } from '../../src/backends/types.js';
import { ServerPool } from '../../src/sessions/serverPool.js';
import { JlabError } from '../../src/util/errors.js';

/** A backend that never starts anything: the pool's bookkeeping is what is under test. */
function fakeBackend(name: string): JupyterBackend {
  return {
    kind: 'external',
    start: async () => ({ baseUrl: `http://${name}/`, token: '' }),
    stop: async () => {},
    checkLost: async () => undefined,
    describe: () => ({ kind: 'external', url: `http://${name}/` }),
  };
}

describe('ServerPool', () => {
  it('makes one server per profile in use, on first use, and tells listeners', () => {
    const created: string[] = [];
    const pool = new ServerPool(
      {
        profiles: ['cpu', 'gpu'],
        defaultProfile: 'cpu',
        create: (name) => {
          created.push(name);
          return fakeBackend(name);
        },
      },
      'test',
    );
    const seen: string[] = [];
    pool.onCreated((s) => seen.push(s.profile));
    assert.equal(pool.get().profile, 'cpu');
    assert.equal(pool.get('cpu'), pool.get());
    assert.equal(pool.get('gpu').profile, 'gpu');
    assert.deepEqual(created, ['cpu', 'gpu']);
    assert.deepEqual(seen, ['cpu', 'gpu']);
    assert.deepEqual(Object.keys(pool.describe().servers as object), ['cpu', 'gpu']);
  });

  it('refuses unknown profiles with the list, and any profile when there are none', () => {
    const pool = new ServerPool({ profiles: ['cpu'], defaultProfile: 'cpu', create: fakeBackend }, 'test');
    assert.throws(
      () => pool.get('tpu'),
      (e: unknown) => e instanceof JlabError && /Unknown profile "tpu"/.test(e.message) && /cpu/.test(e.hint ?? ''),
    );
    const plain = new ServerPool({ profiles: [], defaultProfile: 'default', create: fakeBackend }, 'test');
    assert.equal(plain.get().profile, 'default');
    assert.throws(
      () => plain.get('gpu'),
      (e: unknown) => e instanceof JlabError && /only for the SLURM backend/.test(e.hint ?? ''),
    );
  });
});
