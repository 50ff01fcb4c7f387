import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseRunMode, helpText, loadConfig, parseArgs } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';
import { redactSecrets, registerSecret, displayUrl } from '../../src/util/secrets.js';
import { Mutex } from '../../src/util/mutex.js';
import { splitCommand } from '../../src/util/which.js';

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

  it('documents every setting in the README', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = Object.values(SETTINGS).map((spec) => spec.env).filter((env) => !readme.includes(env));
    assert.deepEqual(missing, []);
  });

  it('lists every setting in --help', () => {
    const help = helpText('1.0.0');
    for (const spec of Object.values(SETTINGS)) assert.ok(help.includes(spec.env), spec.env);
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

describe('splitCommand', () => {
  it('honours quotes', () => {
    assert.deepEqual(splitCommand(`jupyter server`), ['jupyter', 'server']);
    assert.deepEqual(splitCommand(`"/opt/my env/bin/jupyter" 'server'`), ['/opt/my env/bin/jupyter', 'server']);
  });
});
