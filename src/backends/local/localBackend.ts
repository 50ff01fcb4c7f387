import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JupyterRestClient } from '../../jupyter/restClient.js';
import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { sleep } from '../../util/deadline.js';
import { JlabError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { envWithoutSecrets, registerSecret } from '../../util/secrets.js';
import { TextTail } from '../../util/tail.js';
import { pidAlive, terminate, terminatePid } from '../../util/terminate.js';
import { cullingArgs } from '../culling.js';
import { writeServerConfig } from '../serverConfig.js';
import type { JupyterBackend, RecordBody } from '../types.js';
import type { LocalDescription } from './description.js';
import type { LocalServerRecord } from './record.js';
import { findFreePort } from './freePort.js';
import { INSTALL_HINT, resolveJupyterCommand } from './jupyterCommand.js';
import type { JupyterSetup } from '../../setup/jupyterSetup.js';

export interface LocalBackendOptions {
  jupyterCommand?: string;
  rootDir: string;
  startTimeoutMs: number;
  /**
   * Seconds without jlab-mcp and without a busy kernel after which Jupyter culls the kernels and
   * then shuts itself down (its own culling, not ours). Default 3600 (JLAB_MCP_IDLE_TIMEOUT).
   */
  idleTimeoutSeconds?: number;
  /** Milliseconds per REST request and websocket handshake. Default 30 000 (JLAB_MCP_REQUEST_TIMEOUT). */
  requestTimeoutMs?: number;
  /** JupyterLab 3+ next to the jupyter-server found, when no command is configured (JLAB_MCP_JUPYTERLAB). Default true. */
  jupyterLab?: boolean;
  /** Installs Jupyter first when there is none (JLAB_MCP_SETUP); without it the start only looks. */
  setup?: JupyterSetup;
}

const PORT_ATTEMPTS = 3;

/**
 * Starts our own Jupyter server on 127.0.0.1: a free port, a fresh token that travels through
 * a 0600 file (never argv), its own runtime directory, its log in a file there. It runs in its
 * own process group and does not die with us: after a restart (or a SIGKILL) of jlab-mcp the
 * next one adopts it and its kernels. Left alone, Jupyter's own culling ends it: kernels idle
 * and unconnected for the idle timeout are shut down, then the server with no kernels and no
 * activity for as long. A normal exit with the `shutdown` policy stops it at once.
 */
export class LocalBackend implements JupyterBackend<'local'> {
  readonly kind = 'local' as const;
  private child?: ChildProcess;
  /** A server a previous jlab-mcp started, adopted by pid. */
  private adopted?: { pid: number; watch?: NodeJS.Timeout };
  private runtimeDir?: string;
  private url?: string;
  private lostListener?: (reason: string) => void;

  constructor(private readonly options: LocalBackendOptions) {}

  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    await this.stop();
    const prepared = await this.options.setup?.ensure(signal);
    const command = prepared ?? (await resolveJupyterCommand(this.options.jupyterCommand, this.options.jupyterLab ?? true));
    const token = randomBytes(24).toString('hex');
    registerSecret(token);
    this.runtimeDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-mcp-'));
    const { configFile, tokenFile } = await writeServerConfig(this.runtimeDir, token);
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      try {
        return await this.launch(command, port, token, configFile, tokenFile, signal);
      } catch (error) {
        const portTaken = /already in use|Address already in use|could not bind/i.test(await this.logTail(40));
        await this.stopChild();
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
        log.warn(`port ${port} was taken before Jupyter could bind it; trying another`);
      }
    }
  }

  private async launch(command: string[], port: number, token: string, configFile: string, tokenFile: string, signal: AbortSignal): Promise<ServerEndpoint> {
    const args = [
      ...command.slice(1),
      `--config=${configFile}`,
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      '--ServerApp.port_retries=0',
      '--ServerApp.open_browser=False',
      `--ServerApp.root_dir=${this.options.rootDir}`,
    ];
    if (process.getuid?.() === 0) args.push('--allow-root');
    args.push(...cullingArgs(this.options.idleTimeoutSeconds ?? 3600));
    const argv = [command[0]!, ...args];
    // Kernels inherit the server's environment: none of our tokens (the config drops JLAB_MCP_TOKEN_FILE).
    const env: NodeJS.ProcessEnv = {
      ...envWithoutSecrets(),
      JLAB_MCP_TOKEN_FILE: tokenFile,
      JUPYTER_RUNTIME_DIR: this.runtimeDir!,
      // Silences the debugger's frozen-modules warning that every kernel start prints.
      PYDEVD_DISABLE_FILE_VALIDATION: '1',
    };
    log.info(`starting Jupyter: ${command.join(' ')} on 127.0.0.1:${port} (log: ${this.logFile()})`);
    // A file, not a pipe, for its log: the server outlives us and must not write into a broken pipe.
    const logFd = openSync(this.logFile(), 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', logFd], detached: true });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      const fail = async (why: string) => {
        const tail = await this.logTail(15);
        reject(
          new JlabError('SERVER_START_FAILED', `The Jupyter server ${why} before it was ready.\n--- its log (last lines) ---\n${tail}`, {
            hint: /No module named|not found|ENOENT/.test(why + tail) ? INSTALL_HINT : 'Fix the error above; the next tool call starts the server again.',
          }),
        );
      };
      child.once('error', (error) => void fail(`could not be started (${error.message})`));
      child.once('exit', (code, sig) => void fail(`exited (${sig ?? `code ${code}`})`));
    });
    const endpoint: ServerEndpoint = { baseUrl: `http://127.0.0.1:${port}/`, token, requestTimeoutMs: this.options.requestTimeoutMs };
    const rest = new JupyterRestClient(endpoint);
    const deadline = Date.now() + this.options.startTimeoutMs;
    const ready = (async () => {
      for (let interval = 25; ; interval = Math.min(interval * 1.5, 500)) {
        if (await rest.isUp(1000)) return endpoint;
        if (Date.now() > deadline) {
          throw new JlabError(
            'SERVER_START_FAILED',
            `The Jupyter server did not answer within ${this.options.startTimeoutMs / 1000} s.\n--- its log ---\n${await this.logTail(15)}`,
            {
              hint: 'Raise JLAB_MCP_SERVER_START_TIMEOUT if the machine is slow; the next tool call tries again.',
            },
          );
        }
        await sleep(interval, signal);
      }
    })();
    exited.catch(() => {});
    const result = await Promise.race([ready, exited]);
    this.url = endpoint.baseUrl;
    child.once('exit', (code, sig) => {
      if (this.child === child)
        void this.logTail(10).then((tail) => this.lostListener?.(`the local Jupyter server exited (${sig ?? `code ${code}`}).\n${tail}`));
    });
    log.info(`Jupyter ready at ${endpoint.baseUrl} (pid ${child.pid})`);
    return result;
  }

  watch(listener: (reason: string) => void): void {
    this.lostListener = listener;
  }

  async checkLost(): Promise<string | undefined> {
    const child = this.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      return `the local Jupyter server exited (${child.signalCode ?? `code ${child.exitCode}`}).\n${await this.logTail(10)}`;
    }
    if (this.adopted && !pidAlive(this.adopted.pid)) return `the local Jupyter server (pid ${this.adopted.pid}) is gone.\n${await this.logTail(10)}`;
    return undefined;
  }

  /** The server a previous jlab-mcp left running, if it still answers with its token. */
  async adopt(record: LocalServerRecord): Promise<ServerEndpoint | undefined> {
    if (!pidAlive(record.pid)) return undefined;
    const token = (await readFile(record.tokenFile, 'utf8').catch(() => '')).split('\n')[0]!.trim();
    if (!token) return undefined;
    registerSecret(token);
    const endpoint: ServerEndpoint = { baseUrl: record.baseUrl, token, requestTimeoutMs: this.options.requestTimeoutMs };
    if (!(await new JupyterRestClient(endpoint).isUp(5000))) return undefined;
    const adopted: { pid: number; watch?: NodeJS.Timeout } = { pid: record.pid };
    // No child handle to wait on: look for the process every few seconds.
    adopted.watch = setInterval(() => {
      if (this.adopted === adopted && !pidAlive(adopted.pid)) {
        clearInterval(adopted.watch);
        this.lostListener?.(`the local Jupyter server (pid ${adopted.pid}) is gone.`);
      }
    }, ADOPTED_WATCH_MS);
    adopted.watch.unref();
    this.adopted = adopted;
    this.runtimeDir = record.runtimeDir;
    this.url = record.baseUrl;
    log.info(`adopted the Jupyter server at ${record.baseUrl} (pid ${record.pid}) left by an earlier jlab-mcp`);
    return endpoint;
  }

  /** How a later jlab-mcp finds this server; undefined when none runs. */
  record(): RecordBody<LocalServerRecord> | undefined {
    const pid = this.child?.pid ?? this.adopted?.pid;
    if (!pid || !this.url || !this.runtimeDir) return undefined;
    return {
      backend: 'local',
      baseUrl: this.url,
      pid,
      runtimeDir: this.runtimeDir,
      tokenFile: path.join(this.runtimeDir, 'token'),
      startedAt: new Date().toISOString(),
    };
  }

  /** Leaves the server running for a later jlab-mcp (exit policy keep); its files stay. */
  async detach(): Promise<void> {
    this.child?.removeAllListeners('exit');
    this.child?.unref();
    this.child = undefined;
    if (this.adopted?.watch) clearInterval(this.adopted.watch);
    this.adopted = undefined;
    this.runtimeDir = undefined;
  }

  async stop(): Promise<void> {
    await this.stopChild();
    if (this.runtimeDir) {
      await rm(this.runtimeDir, { recursive: true, force: true }).catch(() => {});
      this.runtimeDir = undefined;
    }
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    const adopted = this.adopted;
    this.child = undefined;
    this.adopted = undefined;
    this.url = undefined;
    if (child) await terminate(child, 8000);
    if (adopted) {
      clearInterval(adopted.watch);
      await terminatePid(adopted.pid, 8000);
    }
  }

  private logFile(): string {
    return path.join(this.runtimeDir ?? os.tmpdir(), 'jupyter.log');
  }

  /** The last lines of the server's log file. */
  private async logTail(lines: number): Promise<string> {
    const tail = new TextTail();
    tail.push(await readFile(this.logFile(), 'utf8').catch(() => ''));
    return tail.lines(lines);
  }

  describe(): LocalDescription {
    // `summary` is what a waiting start call's progress says (the setup's step, while one runs).
    return {
      kind: this.kind,
      summary: this.options.setup?.summary(),
      setup: this.options.setup?.describe(),
      url: this.url,
      pid: this.child?.pid ?? this.adopted?.pid,
      adopted: this.adopted !== undefined,
      runtimeDir: this.runtimeDir,
      log: this.runtimeDir ? this.logFile() : undefined,
    };
  }
}

/** How often an adopted server's pid is checked, in ms. */
const ADOPTED_WATCH_MS = 2000;
