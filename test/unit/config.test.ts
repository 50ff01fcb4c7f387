import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRunMode, helpText, loadConfig, parseArgs } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';
import { redactSecrets, registerSecret, displayUrl } from '../../src/util/secrets.js';
import { Mutex } from '../../src/util/mutex.js';
import { splitWords } from '../../src/util/shell.js';

describe('config', () => {
  it('takes flags over env over defaults', () => {
    const env = { JLAB_MCP_NOTEBOOK_DIR: '/env/nb', JLAB_MCP_OUTPUT_BUDGET: '5000' };
    const fromEnv = loadConfig(parseArgs([]), env, '/cwd');
    assert.equal(fromEnv.notebookDir, '/env/nb');
    assert.equal(fromEnv.outputBudget, 5000);
    assert.equal(fromEnv.serverStartTimeout, 60);
    const fromFlag = loadConfig(parseArgs(['--notebook-dir', 'rel', '--output-budget=7000']), env, '/cwd');
    assert.equal(fromFlag.notebookDir, '/cwd/rel');
    assert.equal(fromFlag.outputBudget, 7000);
    assert.equal(loadConfig(parseArgs([]), {}, '/cwd').notebookDir, '/cwd/notebooks');
  });

  it("expands ~ in every path setting and in a command's program path", () => {
    const env = {
      HOME: '/home/ada',
      JLAB_MCP_NOTEBOOK_DIR: '~/notebooks',
      JLAB_MCP_STATE_DIR: '~',
      JLAB_MCP_SLURM_STATE_DIR: '~/.jlab-mcp/slurm',
      JLAB_MCP_SLURM_PROFILES: '~/profiles.json',
      JLAB_MCP_JUPYTER_CMD: '~/venv/bin/jupyter server',
      JLAB_MCP_SLURM_JUPYTER_CMD: '~/venv/bin/jupyter-server',
    };
    const config = loadConfig(parseArgs([]), env, '/cwd');
    assert.equal(config.notebookDir, '/home/ada/notebooks');
    assert.equal(config.stateDir, '/home/ada');
    assert.equal(config.slurmStateDir, '/home/ada/.jlab-mcp/slurm');
    assert.equal(config.slurmProfiles, '/home/ada/profiles.json');
    assert.equal(config.jupyterCommand, '/home/ada/venv/bin/jupyter server');
    assert.equal(config.slurmJupyterCommand, '/home/ada/venv/bin/jupyter-server');
    // Relative paths are absolute against the working directory; a ~ inside a path is a name.
    const rel = loadConfig(parseArgs(['--state-dir', 'st', '--notebook-dir', 'a/~/b']), { HOME: '/home/ada' }, '/cwd');
    assert.equal(rel.stateDir, '/cwd/st');
    assert.equal(rel.notebookDir, '/cwd/a/~/b');
    // A home with a space stays one word of the command.
    assert.deepEqual(
      splitWords(loadConfig(parseArgs([]), { HOME: '/home/a b', JLAB_MCP_JUPYTER_CMD: '~/bin/jupyter server' }).jupyterCommand!, 'JLAB_MCP_JUPYTER_CMD'),
      ['/home/a b/bin/jupyter', 'server'],
    );
    assert.throws(
      () => loadConfig(parseArgs([]), { HOME: '/home/ada', JLAB_MCP_NOTEBOOK_DIR: '~bob/nb' }),
      /JLAB_MCP_NOTEBOOK_DIR=~bob\/nb: only ~ and ~\/… \(your own home\)/,
    );
  });

  it('reads the token file at a ~ path', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const home = await mkdtemp(`${tmpdir()}/jlab-home-`);
    try {
      await writeFile(`${home}/token`, 'tok-from-file-0123456789\n', { mode: 0o600 });
      const config = loadConfig(parseArgs([]), { HOME: home, JLAB_MCP_JUPYTER_TOKEN_FILE: '~/token' }, '/cwd');
      assert.equal(config.jupyterToken, 'tok-from-file-0123456789');
      assert.equal(config.jupyterTokenFile, `${home}/token`);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('rejects unknown flags, bad values, and a token flag', () => {
    assert.throws(() => parseArgs(['--nope']), /Unknown option --nope/);
    assert.throws(() => parseArgs(['--jupyter-token', 'x']), /Unknown option/);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_RUN_MODE: 'cloud' }), /JLAB_MCP_RUN_MODE/);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_SERVER_START_TIMEOUT: '-1' }), /JLAB_MCP_SERVER_START_TIMEOUT/);
    assert.throws(() => loadConfig(parseArgs([]), { JLAB_MCP_RUN_MODE: 'external' }), /JLAB_MCP_JUPYTER_URL/);
  });

  it('picks external mode when a URL is given, and says why', () => {
    const config = loadConfig(parseArgs([]), { JLAB_MCP_JUPYTER_URL: 'http://127.0.0.1:9999/', JLAB_MCP_JUPYTER_TOKEN: 'secret-token-123' });
    assert.deepEqual(chooseRunMode(config), { mode: 'external', reason: 'JLAB_MCP_JUPYTER_URL is set' });
    assert.equal(redactSecrets('token is secret-token-123'), 'token is <redacted>');
  });

  it("names the run command's default as the reason, not JLAB_MCP_RUN_MODE", async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const bin = await mkdtemp(`${tmpdir()}/fake-sbatch-`);
    try {
      await writeFile(`${bin}/sbatch`, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const fromRunSh = loadConfig(parseArgs([]), { JLAB_MCP_DEFAULT_RUN_MODE: 'local' });
      const chosen = chooseRunMode(fromRunSh, bin);
      assert.equal(chosen.mode, 'local');
      assert.match(chosen.reason, /^the run command's default \(JLAB_MCP_DEFAULT_RUN_MODE=local, set by scripts\/run\.sh\); set JLAB_MCP_RUN_MODE=slurm /);
      // What the user sets still wins over the run command's default, and says so.
      const explicit = loadConfig(parseArgs(['--run-mode', 'slurm']), { JLAB_MCP_DEFAULT_RUN_MODE: 'local' });
      assert.deepEqual(chooseRunMode(explicit, bin), { mode: 'slurm', reason: 'set by JLAB_MCP_RUN_MODE / --run-mode' });
      const withUrl = loadConfig(parseArgs([]), { JLAB_MCP_DEFAULT_RUN_MODE: 'local', JLAB_MCP_JUPYTER_URL: 'http://127.0.0.1:9/' });
      assert.equal(chooseRunMode(withUrl, bin).mode, 'external');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
    const runSh = await (await import('node:fs/promises')).readFile(new URL('../../scripts/run.sh', import.meta.url), 'utf8');
    assert.match(runSh, /^export JLAB_MCP_DEFAULT_RUN_MODE="\$\{JLAB_MCP_DEFAULT_RUN_MODE:-local\}"$/m);
    assert.doesNotMatch(runSh, /export JLAB_MCP_RUN_MODE=/);
  });

  // That docs/settings.md has a row for every setting is checked in test/unit/docs.test.ts.

  it('reads no JLAB_MCP_* variable that is not a setting', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const srcDir = new URL('../../src/', import.meta.url);
    const files = (await readdir(srcDir, { recursive: true })).filter((f) => f.endsWith('.ts'));
    // Passed from jlab-mcp to the Jupyter it starts (assets/jupyter/token_config.py), not a user setting.
    const internal = new Set(['JLAB_MCP_TOKEN_FILE']);
    const settings = new Set(Object.values(SETTINGS).map((spec) => spec.env));
    const unknown = new Set<string>();
    for (const file of files) {
      const text = await readFile(new URL(file, srcDir), 'utf8');
      // A name ending in _ is a family (`JLAB_MCP_SLURM_*`), not a variable.
      for (const [name] of text.matchAll(/JLAB_MCP_[A-Z0-9_]+/g)) {
        if (!name.endsWith('_') && !settings.has(name) && !internal.has(name)) unknown.add(`${name} (${file})`);
      }
    }
    assert.deepEqual([...unknown], []);
  });

  it('lists every setting in --help with its default', () => {
    const help = helpText('1.0.0');
    for (const spec of Object.values(SETTINGS)) assert.ok(help.includes(spec.env), spec.env);
    assert.ok(help.includes('JLAB_MCP_NOTEBOOK_DIR (default: ./notebooks)'));
    assert.ok(help.includes('JLAB_MCP_EXEC_TIMEOUT (default: 50)'));
    assert.ok(help.includes('JLAB_MCP_SLURM_TLS (default: true)'));
    assert.ok(help.includes('JLAB_MCP_SLURM_ACCOUNT (default: unset)'));
    // Every setting states its default, in the header line or as "Default: …" in its text.
    const blocks = help.split(/\n(?= {2}\S)/).filter((block) => block.includes('JLAB_MCP_'));
    const silent = blocks.filter((block) => !/\(default: [^)]+\)|\bDefault: /.test(block));
    assert.deepEqual(silent, []);
  });
});

describe('secrets', () => {
  it('redacts registered tokens and token query parameters; display URLs drop credentials', () => {
    registerSecret('abcdefabcdef0123');
    assert.equal(redactSecrets('x abcdefabcdef0123 y'), 'x <redacted> y');
    assert.equal(redactSecrets('ws://h/api?token=zzz&a=1'), 'ws://h/api?token=<redacted>&a=1');
    assert.equal(displayUrl('http://u:p@h:1/x/?token=abc#f'), 'http://h:1/x/');
  });
});

describe('Mutex', () => {
  it('runs tasks one at a time in arrival order, even when one fails', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      mutex.run(async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
      });
    const results = await Promise.allSettled([task('a', 20, true), task('b', 1), task('c', 1)]);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.equal(results[0]!.status, 'rejected');
    assert.equal(mutex.pending, 0);
  });
});
