// The client our users run: Claude Code, installed pinned into a private prefix
// (scripts/install-claude-code.sh), with a throwaway HOME and config dir, and the README's own
// registration lines and .mcp.json example read from README.md so the two cannot drift.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, readlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/mcpClient.js';

export const README_PATH = '/path/to/jlab-mcp';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCommand(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}\n${error.message}` : stderr, ms: Date.now() - started });
    });
  });
}

/** The `claude` executable, or why the tier skips (the install script says why, e.g. offline). */
export async function installClaude(): Promise<{ bin: string } | { skip: string }> {
  const ran = await runCommand('bash', [path.join(REPO, 'scripts/install-claude-code.sh')], { cwd: REPO, env: process.env, timeoutMs: 300_000 });
  const bin = ran.stdout.trim().split('\n').at(-1) ?? '';
  if (ran.code !== 0 || !bin) {
    const why = ran.stderr.trim().split('\n').at(-1) ?? '';
    return { skip: `Claude Code could not be installed (scripts/install-claude-code.sh exit ${ran.code}): ${why}` };
  }
  return { bin };
}

/** The fenced block that follows `marker` in README.md. */
export async function readmeBlock(marker: string): Promise<string> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no "${marker}" marker`);
  const open = readme.indexOf('```', at);
  const bodyStart = readme.indexOf('\n', open) + 1;
  const close = readme.indexOf('\n```', bodyStart);
  return readme.slice(bodyStart, close);
}

/** README's `claude mcp add` lines as argv (after `claude`), with the checkout's real path. */
export async function readmeAddLines(): Promise<string[][]> {
  const block = await readmeBlock('<!-- test/claude runs every `claude mcp add` line');
  const lines = block.split('\n').filter((line) => line.startsWith('claude mcp add '));
  return lines.map((line) => {
    if (/["'\\$`]/.test(line)) throw new Error(`README line needs a shell to split: ${line}`);
    return line.replaceAll(README_PATH, REPO.replace(/\/$/, '')).split(/\s+/).slice(1);
  });
}

/** README's .mcp.json example, with the checkout's real path. */
export async function readmeMcpJson(): Promise<string> {
  const block = await readmeBlock('<!-- test/claude writes the next block');
  return block.replaceAll(README_PATH, REPO.replace(/\/$/, ''));
}

/** A throwaway user: HOME, Claude Code's config dir and a project directory under one root. */
export async function freshUser(): Promise<{ root: string; home: string; project: string; env: NodeJS.ProcessEnv }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'jlab-claude-'));
  const home = path.join(root, 'home');
  const project = path.join(root, 'project');
  await mkdir(project, { recursive: true });
  await mkdir(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  // As a user starts it: none of our own settings, nor the coding client's or model's variables.
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(JLAB_MCP_|ANTHROPIC_|CLAUDE|XDG_)/.test(key)) env[key] = value;
  }
  Object.assign(env, {
    HOME: home,
    CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
    // No network but the registry: no telemetry, no update checks.
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  });
  return { root, home, project, env };
}

/** `claude mcp list`'s line for jlab-mcp, e.g. "jlab-mcp: bash …/run.sh - ✔ Connected". */
export function listLine(stdout: string): string | undefined {
  return stdout.split('\n').find((line) => line.startsWith('jlab-mcp:'));
}

/** Pids of live processes whose working directory is inside `root` (what a client started there). */
export async function processesUnder(root: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === root || cwd.startsWith(`${root}/`)) pids.push(Number(entry));
  }
  return pids;
}
