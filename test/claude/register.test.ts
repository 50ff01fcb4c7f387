// What the README tells a user, done with the client they run: Claude Code (pinned, installed
// into .cache/ by scripts/install-claude-code.sh). `claude mcp add` with the README's own line,
// then `claude mcp list`, which starts the server, checks it answers and leaves; the same for
// the README's .mcp.json example, before and after the approval Claude Code asks for.
// No API key or model is involved: `claude mcp add/list` never talk to one.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI } from '../helpers/mcpClient.js';
import { waitUntilGone } from '../helpers/processes.js';
import { freshUser, installClaude, listLine, processesUnder, readmeAddLines, readmeMcpJson, runCommand } from './helpers.js';

const installed = existsSync(CLI) ? await installClaude() : { skip: `${CLI} is missing: run npm run build` };
const skip = 'skip' in installed ? installed.skip : false;
if (skip) console.error(`skipping the Claude Code tier: ${skip}`);
const claude = 'bin' in installed ? installed.bin : '';

const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function user() {
  const u = await freshUser();
  roots.push(u.root);
  return u;
}

function claudeIn(cwd: string, env: NodeJS.ProcessEnv, args: string[]) {
  return runCommand(claude, args, { cwd, env, timeoutMs: 90_000 });
}

/** Whatever `claude mcp list` started in the project (jlab-mcp, its Jupyter, kernels) is gone. */
async function assertNothingLeft(root: string): Promise<void> {
  const left = await waitUntilGone(await processesUnder(root), 20_000);
  assert.deepEqual(left, [], 'every process the health check started has ended');
}

describe('Claude Code: the README registration', { skip, timeout: 240_000 }, () => {
  let lines: string[][] = [];
  before(async () => {
    lines = await readmeAddLines();
    assert.ok(lines.length >= 1, 'README has claude mcp add lines');
  });

  it('claude mcp add with the README line, then claude mcp list: jlab-mcp is connected (local backend)', async () => {
    const local = lines.find((argv) => !argv.includes('-e'));
    assert.ok(local, 'README has a line without settings');
    assert.deepEqual(local.slice(0, 4), ['mcp', 'add', 'jlab-mcp', '--']);
    assert.ok(
      local.some((a) => a.endsWith('/scripts/run.sh')),
      'the line goes through the run command',
    );
    const u = await user();
    const added = await claudeIn(u.project, u.env, local);
    assert.equal(added.code, 0, added.stderr);
    const listed = await claudeIn(u.project, u.env, ['mcp', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listLine(listed.stdout) ?? listed.stdout, /^jlab-mcp: bash \S+\/scripts\/run\.sh - ✔ Connected$/);
    console.error(`claude mcp list (local backend through scripts/run.sh) reported Connected after ${listed.ms} ms`);
    // The config went to the throwaway config dir, not the real user's.
    assert.ok(existsSync(path.join(u.env.CLAUDE_CONFIG_DIR!, '.claude.json')));
    assert.ok(existsSync(path.join(u.project, 'notebooks')), "the default ./notebooks is the project's, not the checkout's");
    await assertNothingLeft(u.root);
  });

  it('a server that cannot start is reported failed, not connected (the check can fail)', async () => {
    const u = await user();
    const broken = ['mcp', 'add', 'jlab-mcp', '--', 'bash', path.join(u.root, 'no-such-checkout/scripts/run.sh')];
    assert.equal((await claudeIn(u.project, u.env, broken)).code, 0);
    const listed = await claudeIn(u.project, u.env, ['mcp', 'list']);
    assert.doesNotMatch(listLine(listed.stdout) ?? '', /Connected/);
    assert.match(listLine(listed.stdout) ?? listed.stdout, /Failed/);
  });

  it("the README's .mcp.json: pending until approved, then connected; notebooks in the project", async () => {
    const u = await user();
    const example = await readmeMcpJson();
    assert.doesNotMatch(example, /npx/, 'the example works from a checkout, unpublished');
    await writeFile(path.join(u.project, '.mcp.json'), example);
    const pending = await claudeIn(u.project, u.env, ['mcp', 'list']);
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(listLine(pending.stdout) ?? pending.stdout, /Pending approval/, 'Claude Code asks before it runs a project server (the README says so)');
    // What answering "Use this MCP server" records (README): the folder trusted, the server
    // named in the project's .claude/settings.local.json.
    const configFile = path.join(u.env.CLAUDE_CONFIG_DIR!, '.claude.json');
    const config = JSON.parse(await readFile(configFile, 'utf8').catch(() => '{}')) as { projects?: Record<string, Record<string, unknown>> };
    config.projects ??= {};
    config.projects[u.project] = { ...config.projects[u.project], hasTrustDialogAccepted: true };
    await writeFile(configFile, JSON.stringify(config, null, 2));
    await mkdir(path.join(u.project, '.claude'), { recursive: true });
    await writeFile(path.join(u.project, '.claude', 'settings.local.json'), JSON.stringify({ enabledMcpjsonServers: ['jlab-mcp'] }));
    const listed = await claudeIn(u.project, u.env, ['mcp', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listLine(listed.stdout) ?? listed.stdout, /^jlab-mcp: bash \S+\/scripts\/run\.sh - ✔ Connected$/);
    console.error(`claude mcp list (.mcp.json, local backend) reported Connected after ${listed.ms} ms`);
    assert.ok(existsSync(path.join(u.project, 'notebooks')), "JLAB_MCP_NOTEBOOK_DIR=./notebooks is the project's");
    await assertNothingLeft(u.root);
  });
});
