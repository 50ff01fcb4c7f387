import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(REPO, 'dist', 'cli.js');

export interface Spawned {
  client: Client;
  transport: StdioClientTransport;
  notebookDir: string;
  stderr: () => string;
  pid: () => number | undefined;
  close: () => Promise<void>;
}

/** Spawns the built jlab-mcp binary over stdio with a fresh notebook dir and connects the official client. */
export async function spawnServer(env: Record<string, string> = {}, notebookDir?: string, clientOptions?: ConstructorParameters<typeof Client>[1]): Promise<Spawned> {
  const dir = notebookDir ?? (await mkdtemp(path.join(os.tmpdir(), 'jlab-e2e-')));
  let stderrText = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI],
    env: { ...(process.env as Record<string, string>), JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: dir, JLAB_MCP_LOG_LEVEL: 'debug', ...env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderrText += chunk.toString();
  });
  const client = new Client({ name: 'jlab-mcp-tests', version: '0.0.0' }, clientOptions);
  await client.connect(transport);
  return {
    client,
    transport,
    notebookDir: dir,
    stderr: () => stderrText,
    pid: () => transport.pid ?? undefined,
    close: () => client.close(),
  };
}

export type ToolResult = {
  content: Array<{ type: string; text?: string; data?: string; mimeType?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

/** Calls a tool and returns its result with a loose, test-friendly type. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}, timeout = 120_000): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args }, { timeout })) as ToolResult;
}

export function textOf(result: ToolResult): string {
  return result.content.filter((block) => block.type === 'text').map((block) => block.text).join('\n');
}
