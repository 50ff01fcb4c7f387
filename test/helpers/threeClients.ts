import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioTransportV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, REPO, spawnServer } from './mcpClient.js';

/*
 * The same calls through the three MCP clients people run: the TypeScript SDK 1.x client (which
 * checks structuredContent against the outputSchema even on error results), the 2.x client, and
 * the Python SDK client (test/clients/pyclient.py in the venv scripts/install-deps.sh makes).
 */

/** What a client made of one tools/call: a result, or a protocol error it raised instead. */
export type Outcome =
  | { kind: 'result'; isError: boolean; text: string; structured?: Record<string, unknown>; meta?: Record<string, unknown> }
  | { kind: 'protocol_error'; message: string };

export interface ClientUnderTest {
  name: string;
  notebookDir: string;
  call(tool: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<Outcome>;
  close(): Promise<void>;
}

export const PYTHON_CLIENT = path.join(REPO, '.cache', 'pymcp', 'bin', 'python');

/** Why the Python client cannot run, or false. */
export function missingPythonClientReason(): string | false {
  return existsSync(PYTHON_CLIENT) ? false : `${PYTHON_CLIENT} is missing: run scripts/install-deps.sh (it makes the venv with the mcp package)`;
}

function serverEnv(notebookDir: string, env: Record<string, string>): Record<string, string> {
  return { ...(process.env as Record<string, string>), JLAB_MCP_RUN_MODE: 'local', JLAB_MCP_NOTEBOOK_DIR: notebookDir, JLAB_MCP_LOG_LEVEL: 'warn', ...env };
}

type RawResult = {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
};

function outcomeOf(raw: RawResult): Outcome {
  const text = (raw.content ?? [])
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('\n');
  return { kind: 'result', isError: raw.isError === true, text, structured: raw.structuredContent, meta: raw._meta };
}

/** The TypeScript SDK 1.x client, after tools/list (so it holds every tool's output validator, as a host does). */
export async function clientV1(env: Record<string, string> = {}): Promise<ClientUnderTest> {
  const notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-clients-v1-'));
  const transport = new StdioTransportV1({ command: process.execPath, args: [CLI], env: serverEnv(notebookDir, env), stderr: 'ignore' });
  const client = new ClientV1({ name: 'jlab-mcp-tests-sdk1', version: '0.0.0' });
  await client.connect(transport);
  await client.listTools();
  return {
    name: 'typescript-sdk-1.x',
    notebookDir,
    async call(tool, args = {}, timeoutMs = 120_000) {
      try {
        return outcomeOf((await client.callTool({ name: tool, arguments: args }, undefined, { timeout: timeoutMs })) as RawResult);
      } catch (error) {
        return { kind: 'protocol_error', message: error instanceof Error ? error.message : String(error) };
      }
    },
    close: () => client.close(),
  };
}

/** The 2.x client (@modelcontextprotocol/client), after tools/list. */
export async function clientV2(env: Record<string, string> = {}): Promise<ClientUnderTest> {
  const notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-clients-v2-'));
  const spawned = await spawnServer({ JLAB_MCP_LOG_LEVEL: 'warn', ...env }, notebookDir);
  await spawned.client.listTools();
  return {
    name: 'typescript-sdk-2.x',
    notebookDir,
    async call(tool, args = {}, timeoutMs = 120_000) {
      try {
        return outcomeOf((await spawned.client.callTool({ name: tool, arguments: args }, { timeout: timeoutMs })) as RawResult);
      } catch (error) {
        return { kind: 'protocol_error', message: error instanceof Error ? error.message : String(error) };
      }
    },
    close: () => spawned.close(),
  };
}

/** The Python SDK client, driven line by line through test/clients/pyclient.py. */
export async function clientPython(env: Record<string, string> = {}): Promise<ClientUnderTest> {
  const notebookDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-clients-py-'));
  const spec = { command: process.execPath, args: [CLI], env: serverEnv(notebookDir, env) };
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON_CLIENT, [path.join(REPO, 'test', 'clients', 'pyclient.py'), JSON.stringify(spec)], {
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let ready: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as Record<string, unknown>;
    if (answer.ready) return ready();
    waiting.get(Number(answer.id))?.(answer);
    waiting.delete(Number(answer.id));
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the Python client exited (${code}); its stderr:\n${stderr}`))),
  );
  exited.catch(() => {});
  await Promise.race([connected, exited, sleepThenFail(60_000, () => `the Python client did not connect in 60 s; its stderr:\n${stderr}`)]);
  let nextId = 0;
  return {
    name: 'python-sdk',
    notebookDir,
    async call(tool, args = {}, timeoutMs = 120_000) {
      const id = ++nextId;
      const answered = new Promise<Record<string, unknown>>((resolve) => waiting.set(id, resolve));
      child.stdin.write(`${JSON.stringify({ id, tool, arguments: args, timeout: timeoutMs / 1000 })}\n`);
      const answer = await Promise.race([
        answered,
        exited,
        sleepThenFail(timeoutMs + 10_000, () => `no answer to ${tool} in time; the Python client's stderr:\n${stderr}`),
      ]);
      if (typeof answer.protocol_error === 'string') return { kind: 'protocol_error', message: answer.protocol_error };
      const raw = answer.result as RawResult & { is_error?: boolean; structured_content?: Record<string, unknown>; meta?: Record<string, unknown> };
      // by_alias gives the wire names; the fallbacks cover a model that dumps its Python names.
      return outcomeOf({
        ...raw,
        isError: raw.isError ?? raw.is_error,
        structuredContent: raw.structuredContent ?? raw.structured_content,
        _meta: raw._meta ?? raw.meta,
      });
    },
    async close() {
      child.stdin.end();
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** Rejects after `ms` (an unref'd timer, so it never holds the test process open). */
function sleepThenFail(ms: number, message: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message())), ms).unref());
}
