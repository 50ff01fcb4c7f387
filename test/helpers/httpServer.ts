import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { CLI } from './mcpClient.js';

export interface HttpSpawned {
  /** http://127.0.0.1:<port>/mcp as the server printed it. */
  url: string;
  token: string;
  tokenFile: string;
  notebookDir: string;
  stateDir: string;
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  /** Signals the server, waits for its exit (code, or the signal's name), removes its directories. */
  stop: (signal?: NodeJS.Signals) => Promise<number | string | null>;
}

const READY = /serving MCP over streamable HTTP at (http:\/\/\S+?);/;

/**
 * Spawns the built binary with `--http 127.0.0.1:0` (a free port; stdin closed, as under nohup
 * or CI) and a fresh notebook and state directory; resolves once it prints its URL.
 */
export async function spawnHttpServer(env: Record<string, string> = {}, args: string[] = ['--http', '127.0.0.1:0']): Promise<HttpSpawned> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jlab-http-'));
  const notebookDir = path.join(dir, 'notebooks');
  const stateDir = path.join(dir, 'state');
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...(process.env as Record<string, string>),
      JLAB_MCP_RUN_MODE: 'local',
      JLAB_MCP_NOTEBOOK_DIR: notebookDir,
      JLAB_MCP_STATE_DIR: stateDir,
      JLAB_MCP_LOG_LEVEL: 'debug',
      ...env,
    },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s; stderr:\n${stderr}`)), 30_000);
    const look = () => {
      const match = READY.exec(stderr);
      if (match) {
        clearTimeout(timer);
        child.stderr!.off('data', look);
        resolve(match[1]!);
      }
    };
    child.stderr!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before serving; stderr:\n${stderr}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const tokenFile = env.JLAB_MCP_HTTP_TOKEN_FILE ?? path.join(stateDir, 'http-token');
  const token = env.JLAB_MCP_HTTP_TOKEN ?? (await readFile(tokenFile, 'utf8')).trim();
  return {
    url,
    token,
    tokenFile,
    notebookDir,
    stateDir,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** The official client over streamable HTTP, sending the bearer token (as Claude Code's --header does). */
export async function httpClient(url: string, token: string, name = 'jlab-mcp-http-tests'): Promise<Client> {
  const client = new Client({ name, version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}
