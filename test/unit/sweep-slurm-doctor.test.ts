// `jlab-mcp doctor`'s check that a sweep's array tasks find nbclient, run with real bash and Python.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkSweepRunner } from '../../src/cli/doctorSweeps.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sweep-doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A venv-like bin/ with a jupyter-server and a python3 that has no nbclient (any import fails). */
function venvWithoutNbclient(): string {
  const bin = path.join(dir, 'venv', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'jupyter-server'), '#!/bin/sh\n');
  writeFileSync(path.join(bin, 'python3'), '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n');
  chmodSync(path.join(bin, 'jupyter-server'), 0o755);
  chmodSync(path.join(bin, 'python3'), 0o755);
  return bin;
}

describe('checkSweepRunner', () => {
  it("ok when the Jupyter command's Python imports nbclient (the Debian jupyter-server here)", async () => {
    const check = await checkSweepRunner({ jupyterCommand: ['/usr/bin/jupyter-server'] }, process.env);
    assert.equal(check.status, 'ok', JSON.stringify(check));
    assert.match(check.detail, /^nbclient \d+\.\d+\S* importable by \/usr\/bin\/python3 /);
  });
  it('a problem naming the Python and the install command when nbclient is missing', async () => {
    const bin = venvWithoutNbclient();
    const check = await checkSweepRunner({ jupyterCommand: [path.join(bin, 'jupyter-server')] }, process.env);
    assert.equal(check.status, 'problem', JSON.stringify(check));
    assert.match(check.detail, /nbclient is not importable by .*venv\/bin\/python3/);
    assert.equal(check.fix?.startsWith(`install it where the job finds it: ${bin}/python3 -m pip install nbclient`), true, check.fix);
  });
  it("runs the job's setup first", async () => {
    const bin = venvWithoutNbclient();
    const check = await checkSweepRunner({ jupyterCommand: ['jupyter-server'], setup: `export PATH=${bin}:$PATH` }, process.env);
    assert.equal(check.status, 'problem', JSON.stringify(check));
  });
});
