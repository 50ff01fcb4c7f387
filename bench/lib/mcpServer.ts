import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Cleanups } from './cleanup.js';
import { killAndWait, pidAlive } from './processes.js';
import { progress } from './progress.js';
import { withTimeout } from './timeout.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The binary under test: this checkout's build, or another's (JLAB_MCP_BENCH_CLI, to alternate two commits in one method). */
export const CLI = process.env.JLAB_MCP_BENCH_CLI ?? path.join(REPO, 'dist', 'cli.js');

export type ToolResult = {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

/** A tool that answered with isError, or a call that failed / timed out. */
export class ToolCallError extends Error {}

export function textOf(result: ToolResult): string {
  return result.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('\n');
}

/**
 * The built jlab-mcp binary (dist/cli.js) over stdio, driven by the official MCP client:
 * local backend, a fresh temp notebook dir, log level warn. `ready()` waits until its
 * Jupyter server answers, so timed calls never include the server start.
 */
export class McpServerUnderTest {
  private releaseCleanup?: () => Promise<void>;

  private constructor(
    readonly client: Client,
    readonly transport: StdioClientTransport,
    readonly notebookDir: string,
    readonly pid: number,
    private readonly stderr: { tail: string },
  ) {}

  /** Starts `cli` (default: JLAB_MCP_BENCH_CLI, else this checkout's dist/cli.js) over stdio on the local backend. */
  static async spawn(cleanups: Cleanups, label: string, cli = CLI): Promise<McpServerUnderTest> {
    const notebookDir = await mkdtemp(path.join(os.tmpdir(), `jlab-bench-${label}-`));
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      JLAB_MCP_NOTEBOOK_DIR: notebookDir,
      JLAB_MCP_LOG_LEVEL: 'warn',
      JLAB_MCP_RUN_MODE: 'local',
    };
    delete env.JLAB_MCP_JUPYTER_URL;
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli], env, stderr: 'pipe' });
    const client = new Client({ name: 'jlab-mcp-bench', version: '0.0.0' });
    const stderr = { tail: '' };
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr.tail = (stderr.tail + chunk.toString()).slice(-8000);
    });
    const release = cleanups.add(`MCP server (${label})`, async () => {
      const pid = transport.pid;
      await client.close().catch(() => {});
      if (pid !== null) await killAndWait(pid, 15_000);
      await rm(notebookDir, { recursive: true, force: true });
    });
    try {
      await withTimeout(client.connect(transport), 30_000, `MCP connect (${label})`);
      const pid = transport.pid;
      if (pid === null) throw new Error('the MCP server has no pid');
      const server = new McpServerUnderTest(client, transport, notebookDir, pid, stderr);
      server.releaseCleanup = release;
      return server;
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Waits for the server's Jupyter to answer (list_kernels blocks until it is up). */
  async ready(): Promise<void> {
    await this.call('list_kernels', {}, 90_000);
  }

  /** Calls a tool; an isError answer or a transport failure throws ToolCallError. */
  async call(name: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<ToolResult> {
    let result: ToolResult;
    try {
      result = (await withTimeout(this.client.callTool({ name, arguments: args }, { timeout: timeoutMs }), timeoutMs + 5_000, `${name}`)) as ToolResult;
    } catch (error) {
      throw new ToolCallError(`${name} failed: ${(error as Error).message}${this.stderrHint()}`);
    }
    if (result.isError) throw new ToolCallError(`${name} returned isError: ${textOf(result).slice(0, 800)}${this.stderrHint()}`);
    return result;
  }

  async startSession(experiment: string): Promise<{ sessionId: string; notebookPath: string }> {
    const result = await this.call('start_new_session', { experiment_name: experiment });
    return { sessionId: String(result.structuredContent?.session_id), notebookPath: String(result.structuredContent?.notebook_path) };
  }

  async shutdownSession(sessionId: string): Promise<void> {
    await this.call('shutdown_session', { session_id: sessionId }, 30_000);
  }

  /**
   * Runs `1+1` (or `code`) and returns the wall ms of the call. The cell must have finished
   * (its closing line says `· ok ·`, not "still running") and, unless `expect` is null, its
   * first output must be `expect`.
   */
  async timedExecute(sessionId: string, code = '1+1', expect: string | null = '2', timeoutMs = 60_000): Promise<number> {
    const t0 = performance.now();
    // The tool's own wait ends a little before the client's, so a slow cell comes back as an answer.
    const result = await this.call('execute_code', { session_id: sessionId, code, timeout: Math.max(1, timeoutMs / 1000 - 5) }, timeoutMs);
    const ms = performance.now() - t0;
    const first = result.content[0]?.text ?? '';
    const last = result.content.at(-1)?.text ?? '';
    if (!/ · ok · /.test(last) || (expect !== null && first.trim() !== expect)) {
      throw new ToolCallError(
        `execute_code(${JSON.stringify(code.slice(0, 60))}) answered ${JSON.stringify(textOf(result).slice(0, 300))}${expect === null ? '' : `, expected ${expect}`}`,
      );
    }
    return ms;
  }

  get alive(): boolean {
    return pidAlive(this.pid);
  }

  /** Closes stdin (the server shuts its kernels and Jupyter down), then makes sure the process is gone. */
  async close(): Promise<void> {
    progress(`stopping MCP server pid ${this.pid}`);
    await this.releaseCleanup?.();
  }

  private stderrHint(): string {
    const tail = this.stderr.tail.trim().split('\n').slice(-8).join('\n');
    return tail ? `\n--- MCP server stderr (tail) ---\n${tail}` : '';
  }
}
