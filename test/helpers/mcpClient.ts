import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(REPO, 'dist', 'cli.js');

/** Why tests of the built binary cannot run (no dist/cli.js), or false when they can. */
export function missingBuildReason(): string | false {
  return existsSync(CLI) ? false : `${CLI} is missing: run npm run build`;
}

/** The built binary's stdio transport, before a client connects (which starts the process). */
export interface StdioServer {
  transport: StdioClientTransport;
  notebookDir: string;
  /** Everything jlab-mcp wrote to stderr so far. */
  stderr: () => string;
  pid: () => number | undefined;
}

/**
 * The transport for the built jlab-mcp over stdio: local mode, debug log and a fresh notebook dir
 * (named `dirPrefix`…) unless `env`/`notebookDir` say otherwise. `launcher` goes before node on
 * the command line (e.g. setpriv to run it as another user).
 */
export async function stdioServer(
  env: Record<string, string> = {},
  notebookDir?: string,
  dirPrefix = 'jlab-e2e-',
  launcher: string[] = [],
): Promise<StdioServer> {
  const dir = notebookDir ?? (await mkdtemp(path.join(os.tmpdir(), dirPrefix)));
  let stderrText = '';
  const [command, ...args] = [...launcher, process.execPath, CLI];
  const transport = new StdioClientTransport({
    command: command!,
    args,
    env: { ...(process.env as Record<string, string>), JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: dir, JLAB_MCP_LOG_LEVEL: 'debug', ...env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderrText += chunk.toString();
  });
  return { transport, notebookDir: dir, stderr: () => stderrText, pid: () => transport.pid ?? undefined };
}

export interface Spawned extends StdioServer {
  client: Client;
  close: () => Promise<void>;
}

/** Spawns the built jlab-mcp binary over stdio with a fresh notebook dir and connects the official client. */
export async function spawnServer(
  env: Record<string, string> = {},
  notebookDir?: string,
  clientOptions?: ConstructorParameters<typeof Client>[1],
  launcher: string[] = [],
): Promise<Spawned> {
  const stdio = await stdioServer(env, notebookDir, 'jlab-e2e-', launcher);
  const client = new Client({ name: 'jlab-mcp-tests', version: '0.0.0' }, clientOptions);
  await client.connect(stdio.transport);
  return { ...stdio, client, close: () => client.close() };
}

export type ToolResult = {
  content: Array<{ type: string; text?: string; data?: string; mimeType?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
};

/** What an error result carries for programs (src/mcp/results.ts): in _meta, since its structuredContent is left out. */
export interface ErrorData {
  code: string;
  message: string;
  hint?: string;
  context: Record<string, unknown>;
}

/** The error of an isError result from jlab-mcp; undefined for a success or the SDK's own input-validation errors. */
export function errorOf(result: ToolResult): ErrorData | undefined {
  return result._meta?.['jlab-mcp/error'] as ErrorData | undefined;
}

/** Calls a tool and returns its result with a loose, test-friendly type. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}, timeout = 120_000): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args }, { timeout })) as ToolResult;
}

export function textOf(result: ToolResult): string {
  return result.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
}
