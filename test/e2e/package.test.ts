// The installable package: `npm pack` → a tarball that installs and runs on its own. Installed
// globally into a temporary prefix (from npm's cache when it has the dependencies), its
// `jlab-mcp` answers --version/--help/doctor and serves a whole MCP session through the official
// client; `npm exec` runs it from the tarball too. Needs dist/ built (the test command builds).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { REPO, textOf, type ToolResult } from '../helpers/mcpClient.js';
import { validateWithPython } from '../helpers/validateNotebook.js';
import { readNotebook } from '../helpers/notebookFile.js';

const exec = promisify(execFile);
const VERSION = (JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
/** npm's own deadlines: an install from the cache takes seconds, from the registry under a minute. */
const NPM_TIMEOUT_MS = 240_000;

describe('npm package', { concurrency: false }, () => {
  let work: string;
  let tarball: string;
  let bin: string;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'jlab-pack-'));
    const { stdout } = await exec('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: REPO, timeout: NPM_TIMEOUT_MS });
    tarball = path.join(work, stdout.trim().split('\n').pop()!);
    const prefix = path.join(work, 'prefix');
    await exec('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { timeout: NPM_TIMEOUT_MS });
    bin = path.join(prefix, 'bin', 'jlab-mcp');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds what the binary needs at run time and nothing of the sources or tests', async () => {
    const { stdout } = await exec('npm', ['pack', '--dry-run', '--json'], { cwd: REPO, timeout: NPM_TIMEOUT_MS });
    const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((file) => file.path);
    for (const needed of [
      'package.json',
      'README.md',
      'dist/cli.js',
      'dist/setup/jupyterSetup.js',
      'assets/kernel/python_setup.py',
      'assets/jupyter/nodelay_config.py',
      'assets/jupyter/fast_dates_config.py',
      'assets/jupyter/lean_activity_config.py',
      'assets/sweeps/run_notebook.py',
    ]) {
      assert.ok(files.includes(needed), `${needed} is in the tarball`);
    }
    assert.deepEqual(
      files.filter((file) => /^(src|test|bench|scripts)\//.test(file)),
      [],
    );
    const installed = path.join(path.dirname(path.dirname(bin)), 'lib', 'node_modules');
    const deps = await readdir(path.join(installed, 'jlab-mcp', 'node_modules', '@modelcontextprotocol')).catch(() =>
      readdir(path.join(installed, '@modelcontextprotocol')),
    );
    assert.ok(deps.includes('server'), `the MCP server SDK is installed: ${deps.join(', ')}`);
    assert.ok(!deps.includes('client') && !deps.includes('inspector'), `test-only packages are not installed: ${deps.join(', ')}`);
  });

  it('the installed jlab-mcp answers --version, --help and doctor', async () => {
    assert.equal((await exec(bin, ['--version'])).stdout.trim(), VERSION);
    const help = (await exec(bin, ['--help'])).stdout;
    assert.match(help, /Usage: jlab-mcp \[options\]/);
    assert.match(help, /jlab-mcp doctor/);
    assert.match(help, /JLAB_MCP_NOTEBOOK_DIR/);
    const { stdout } = await exec(bin, ['doctor', '--json'], {
      env: { ...process.env, JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: path.join(work, 'nb') },
    });
    const report = JSON.parse(stdout) as { ok: boolean; version: string; checks: { name: string; status: string }[] };
    assert.equal(report.version, VERSION);
    assert.equal(report.ok, true, stdout);
  });

  it('a whole MCP session through the installed binary: a cell runs, the notebook is written', async () => {
    const notebookDir = await mkdtemp(path.join(work, 'nb-'));
    const transport = new StdioClientTransport({
      command: bin,
      env: { ...(process.env as Record<string, string>), JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: notebookDir },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'jlab-mcp-package-test', version: '0.0.0' });
    await client.connect(transport);
    try {
      const started = (await client.callTool(
        { name: 'start_new_session', arguments: { experiment_name: 'from-package' } },
        { timeout: 120_000 },
      )) as ToolResult;
      assert.ok(!started.isError, textOf(started));
      const { session_id, notebook_path } = started.structuredContent as { session_id: string; notebook_path: string };
      const cell = (await client.callTool({ name: 'execute_code', arguments: { session_id, code: 'print(6*7)' } }, { timeout: 120_000 })) as ToolResult;
      assert.match(textOf(cell), /^42$/m);
      const file = path.isAbsolute(notebook_path) ? notebook_path : path.join(notebookDir, notebook_path);
      assert.ok(existsSync(file), `${file} exists`);
      const notebook = await readNotebook<{ cells: { source: string | string[] }[] }>(file);
      assert.ok(notebook.cells.some((c) => [c.source].flat().join('') === 'print(6*7)'));
      await validateWithPython([file]);
    } finally {
      await client.close();
    }
  });

  it('npm exec runs jlab-mcp straight from the tarball', async () => {
    // npm exec installs into its own cache (~/.npm/_npx/<hash of the spec>): the entry this run adds is removed after.
    const npxCache = path.join(os.homedir(), '.npm', '_npx');
    const before = new Set(await readdir(npxCache).catch(() => []));
    try {
      const { stdout } = await exec('npm', ['exec', '--yes', '--prefer-offline', `--package=${tarball}`, '--', 'jlab-mcp', '--version'], {
        cwd: work,
        timeout: NPM_TIMEOUT_MS,
      });
      assert.equal(stdout.trim().split('\n').pop(), VERSION);
    } finally {
      for (const entry of await readdir(npxCache).catch(() => [])) {
        if (before.has(entry)) continue;
        // Only ours: another npm exec may be running on this machine at the same time.
        const manifest = await readFile(path.join(npxCache, entry, 'package.json'), 'utf8').catch(() => '');
        if (manifest.includes(path.basename(work))) await rm(path.join(npxCache, entry), { recursive: true, force: true });
      }
    }
  });
});
