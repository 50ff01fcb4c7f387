// The README's HTTP registration done with the client our users run: Claude Code (pinned in
// .cache/ by scripts/install-claude-code.sh; skipped, saying why, when it cannot be installed).
// `claude mcp add --transport http … --header "Authorization: Bearer …"`, then `claude mcp list`,
// which connects and lists the tools. No API key or model is involved.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { freshUser, installClaude, listLine, runCommand } from '../claude/helpers.js';
import { spawnHttpServer, type HttpSpawned } from '../helpers/httpServer.js';

const installed = await installClaude();
const skip = 'skip' in installed ? installed.skip : false;
if (skip) console.error(`skipping Claude Code over HTTP: ${skip}`);
const claude = 'bin' in installed ? installed.bin : '';

describe('Claude Code over HTTP: the README registration', { skip, timeout: 240_000 }, () => {
  let server: HttpSpawned;
  const roots: string[] = [];
  before(async () => {
    server = await spawnHttpServer();
  });
  after(async () => {
    await server?.stop();
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  async function addAndList(token: string): Promise<string> {
    const u = await freshUser();
    roots.push(u.root);
    const run = (args: string[]) => runCommand(claude, args, { cwd: u.project, env: u.env, timeoutMs: 90_000 });
    const added = await run(['mcp', 'add', '--transport', 'http', 'jlab-mcp', server.url, '--header', `Authorization: Bearer ${token}`]);
    assert.equal(added.code, 0, added.stderr);
    const listed = await run(['mcp', 'list']);
    return listLine(listed.stdout) ?? `${listed.stdout}\n${listed.stderr}`;
  }

  it('with the token from the file: ✔ Connected', async () => {
    const line = await addAndList(server.token);
    assert.match(line, new RegExp(`^jlab-mcp: ${server.url.replaceAll('.', '\\.')} \\(HTTP\\) - ✔ Connected$`));
    // 2.1.328 negotiates (server/discover) and so speaks the per-request revision: no MCP session is opened.
  });

  it('with a wrong token: not connected (the check can fail)', async () => {
    const line = await addAndList('0'.repeat(64));
    console.error(`claude mcp list with a wrong token: ${line}`);
    assert.doesNotMatch(line, /Connected/);
    assert.match(server.stderr(), /refused with 401: wrong bearer token/);
  });
});
