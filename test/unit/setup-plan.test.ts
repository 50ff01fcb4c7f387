// The set-up decision (src/setup/plan.ts): what is found on the machine → what is done. Every branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEBIAN_PACKAGES, manualFix, planSetup, type SetupFacts } from '../../src/setup/plan.js';
import { stepCommand } from '../../src/setup/stepCommand.js';

const VENV = '/home/u/.local/share/jlab-mcp/venv';
/** A fresh Debian-like machine as a non-root user: nothing Jupyter, python3 with venv. */
const bare: SetupFacts = {
  configuredCommand: false,
  jupyterOnPath: false,
  kernel: 'unknown',
  privateVenv: 'absent',
  root: false,
  aptGet: true,
  python3: true,
  venvModule: true,
};
const kinds = (facts: Partial<SetupFacts>, policy: 'auto' | 'venv' | 'off' = 'auto') => {
  const plan = planSetup({ ...bare, ...facts }, policy, VENV);
  return { use: plan.use, steps: plan.steps.map((step) => step.kind) };
};

describe('planSetup', () => {
  it('uses a configured JLAB_MCP_JUPYTER_CMD as it is, whatever else is found or the policy', () => {
    for (const policy of ['auto', 'venv', 'off'] as const) {
      assert.deepEqual(kinds({ configuredCommand: true, root: true }, policy), { use: 'configured', steps: [] });
    }
  });

  it('uses the Jupyter on PATH when its kernel is found or cannot be told; installs nothing', () => {
    assert.deepEqual(kinds({ jupyterOnPath: true, kernel: 'found', root: true }), { use: 'path', steps: [] });
    assert.deepEqual(kinds({ jupyterOnPath: true, kernel: 'unknown', root: true }), { use: 'path', steps: [] });
  });

  it('a Jupyter on PATH without a Python kernel counts as missing', () => {
    assert.deepEqual(kinds({ jupyterOnPath: true, kernel: 'missing', root: true }), { use: 'path', steps: ['apt-update', 'apt-install'] });
    const plan = planSetup({ ...bare, jupyterOnPath: true, kernel: 'missing' }, 'auto', VENV);
    assert.match(plan.why, /no Python kernel/);
    assert.equal(plan.use, 'venv');
  });

  it('reuses a finished private venv before installing anything', () => {
    assert.deepEqual(kinds({ privateVenv: 'ready', root: true }), { use: 'venv', steps: [] });
    assert.deepEqual(kinds({ privateVenv: 'ready' }, 'off'), { use: 'venv', steps: [] });
  });

  it('root with apt-get: the Debian packages of install-deps.sh (auto only)', () => {
    const plan = planSetup({ ...bare, root: true }, 'auto', VENV);
    assert.deepEqual(plan.steps, [{ kind: 'apt-update' }, { kind: 'apt-install', packages: DEBIAN_PACKAGES }]);
    assert.equal(plan.use, 'path');
    assert.deepEqual([...DEBIAN_PACKAGES].slice(0, 2), ['jupyter-server', 'python3-ipykernel']);
    assert.deepEqual(kinds({ root: true }, 'venv'), { use: 'venv', steps: ['make-venv', 'pip-install'] }, 'venv never touches apt');
    assert.deepEqual(kinds({ root: true, aptGet: false }), { use: 'venv', steps: ['make-venv', 'pip-install'] }, 'root without apt-get');
  });

  it('not root: a private venv with pip, in the given directory', () => {
    const plan = planSetup(bare, 'auto', VENV);
    assert.deepEqual(plan.steps, [
      { kind: 'make-venv', dir: VENV },
      { kind: 'pip-install', dir: VENV, packages: ['jupyter_server', 'ipykernel'] },
    ]);
    assert.equal(plan.use, 'venv');
  });

  it('finishes a venv whose install was cut short (no second make-venv)', () => {
    assert.deepEqual(kinds({ privateVenv: 'partial' }), { use: 'venv', steps: ['pip-install'] });
    assert.deepEqual(kinds({ privateVenv: 'partial', venvModule: false }, 'venv'), { use: 'venv', steps: ['pip-install'] });
  });

  it('off: installs nothing and names the exact commands', () => {
    const plan = planSetup(bare, 'off', VENV);
    assert.deepEqual([plan.use, plan.steps], ['none', []]);
    assert.equal(
      plan.fix,
      `sudo apt-get install jupyter-server python3-ipykernel, or: python3 -m venv --system-site-packages ${VENV} && ${VENV}/bin/pip install jupyter_server ipykernel`,
    );
    assert.match(planSetup({ ...bare, root: true }, 'off', VENV).fix!, /^apt-get install jupyter-server/, 'no sudo as root');
  });

  it('no python3, or a python3 without venv: nothing to run, the command to install', () => {
    const noPython = planSetup({ ...bare, python3: false }, 'auto', VENV);
    assert.deepEqual([noPython.use, noPython.fix], ['none', 'sudo apt-get install python3 jupyter-server python3-ipykernel']);
    const noVenv = planSetup({ ...bare, venvModule: false }, 'auto', VENV);
    assert.equal(noVenv.use, 'none');
    assert.match(noVenv.fix!, /apt-get install python3-venv/);
    assert.match(noVenv.why, /cannot make a venv/);
    const elsewhere = planSetup({ ...bare, aptGet: false, python3: false }, 'auto', VENV);
    assert.match(elsewhere.fix!, /^install Python 3, then: python3 -m venv/);
    assert.match(manualFix({ root: false, aptGet: false, python3: true, venvModule: true }, VENV), /^python3 -m venv --system-site-packages /);
  });
});

describe('stepCommand', () => {
  it('apt runs non-interactive and waits for a held lock; pip writes the ready marker', () => {
    const apt = stepCommand({ kind: 'apt-install', packages: ['jupyter-server'] }, 'python3', {});
    assert.equal(apt.env.DEBIAN_FRONTEND, 'noninteractive');
    assert.ok(apt.argv.includes('-y') && apt.argv.includes('DPkg::Lock::Timeout=120'));
    assert.equal(apt.finishOnExit, true);
    const venv = stepCommand({ kind: 'make-venv', dir: VENV }, '/usr/bin/python3', {});
    assert.deepEqual(venv.argv, ['/usr/bin/python3', '-m', 'venv', '--system-site-packages', VENV]);
    const pip = stepCommand({ kind: 'pip-install', dir: VENV, packages: ['jupyter_server'] }, 'python3', {});
    assert.equal(pip.argv[0], `${VENV}/bin/python`);
    assert.equal(pip.marker, `${VENV}/.jlab-mcp-ready`);
    assert.equal(pip.finishOnExit, false);
  });

  it('no step sees the tokens jlab-mcp holds (apt and pip run third-party code)', () => {
    const env = { PATH: '/usr/bin', JLAB_MCP_JUPYTER_TOKEN: 'sekrit1', JLAB_MCP_HTTP_TOKEN: 'sekrit2', JUPYTER_TOKEN: 'sekrit3' };
    const steps = [
      { kind: 'apt-update' },
      { kind: 'apt-install', packages: ['x'] },
      { kind: 'make-venv', dir: VENV },
      { kind: 'pip-install', dir: VENV, packages: ['x'] },
    ] as const;
    for (const step of steps) {
      const command = stepCommand(step, 'python3', env);
      assert.equal(command.env.PATH, '/usr/bin', step.kind);
      assert.doesNotMatch(JSON.stringify(command), /sekrit/, step.kind);
    }
    assert.equal(env.JLAB_MCP_JUPYTER_TOKEN, 'sekrit1', 'the given environment is left as it is');
  });
});
