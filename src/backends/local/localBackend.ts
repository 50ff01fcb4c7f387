import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JupyterRestClient } from '../../jupyter/restClient.js';
import type { ServerEndpoint } from '../../jupyter/endpoint.js';
import { sleep } from '../../util/deadline.js';
import { JlabError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { registerSecret } from '../../util/secrets.js';
import { TextTail } from '../../util/tail.js';
import { terminate } from '../../util/terminate.js';
import { which } from '../../util/which.js';
import { writeServerConfig } from '../serverConfig.js';
import type { JupyterBackend } from '../types.js';
import { findFreePort } from './freePort.js';
import { INSTALL_HINT, resolveJupyterCommand } from './jupyterCommand.js';

export interface LocalBackendOptions {
  jupyterCommand?: string;
  rootDir: string;
  startTimeoutMs: number;
  /** Milliseconds per REST request and websocket handshake. Default 30 000 (JLAB_MCP_REQUEST_TIMEOUT). */
  requestTimeoutMs?: number;
}

const PORT_ATTEMPTS = 3;

/**
 * Starts our own Jupyter server on 127.0.0.1: a free port, a fresh token that travels through
 * a 0600 file (never argv), its own runtime directory. On Linux it is started under
 * `setpriv --pdeathsig TERM`, so the kernel sends it SIGTERM if we die, even by SIGKILL.
 */
export class LocalBackend implements JupyterBackend {
  readonly kind = 'local' as const;
  private child?: ChildProcess;
  private runtimeDir?: string;
  private url?: string;
  private readonly stderr = new TextTail();
  private lostListener?: (reason: string) => void;

  constructor(private readonly options: LocalBackendOptions) {}

  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    await this.stop();
    const command = await resolveJupyterCommand(this.options.jupyterCommand);
    const token = randomBytes(24).toString('hex');
    registerSecret(token);
    this.runtimeDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-mcp-'));
    const { configFile, tokenFile } = await writeServerConfig(this.runtimeDir, token);
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      try {
        return await this.launch(command, port, token, configFile, tokenFile, signal);
      } catch (error) {
        const portTaken = /already in use|Address already in use|could not bind/i.test(this.stderr.lines(40));
        await this.stopChild();
        if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
        log.warn(`port ${port} was taken before Jupyter could bind it; trying another`);
      }
    }
  }

  private async launch(
    command: string[],
    port: number,
    token: string,
    configFile: string,
    tokenFile: string,
    signal: AbortSignal,
  ): Promise<ServerEndpoint> {
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
    const setpriv = process.platform === 'linux' ? which('setpriv') : undefined;
    const argv = setpriv ? [setpriv, '--pdeathsig', 'TERM', '--', command[0]!, ...args] : [command[0]!, ...args];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JLAB_MCP_TOKEN_FILE: tokenFile,
      JUPYTER_RUNTIME_DIR: this.runtimeDir!,
      // Silences the debugger's frozen-modules warning that every kernel start prints.
      PYDEVD_DISABLE_FILE_VALIDATION: '1',
    };
    delete env.JUPYTER_TOKEN;
    log.info(`starting Jupyter: ${command.join(' ')} on 127.0.0.1:${port}`);
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr.push(chunk);
      log.debug(`jupyter: ${chunk.trimEnd()}`);
    });
    const exited = new Promise<never>((_, reject) => {
      const fail = (why: string) =>
        reject(
          new JlabError('SERVER_START_FAILED', `The Jupyter server ${why} before it was ready.\n--- its stderr (last lines) ---\n${this.stderr.lines(15)}`, {
            hint: /No module named|not found|ENOENT/.test(why + this.stderr.lines(15)) ? INSTALL_HINT : 'Fix the error above; the next tool call starts the server again.',
          }),
        );
      child.once('error', (error) => fail(`could not be started (${error.message})`));
      child.once('exit', (code, sig) => fail(`exited (${sig ?? `code ${code}`})`));
    });
    const endpoint: ServerEndpoint = { baseUrl: `http://127.0.0.1:${port}/`, token, requestTimeoutMs: this.options.requestTimeoutMs };
    const rest = new JupyterRestClient(endpoint);
    const deadline = Date.now() + this.options.startTimeoutMs;
    const ready = (async () => {
      for (let interval = 25; ; interval = Math.min(interval * 1.5, 500)) {
        if (await rest.isUp(1000)) return endpoint;
        if (Date.now() > deadline) {
          throw new JlabError('SERVER_START_FAILED', `The Jupyter server did not answer within ${this.options.startTimeoutMs / 1000} s.\n--- its stderr ---\n${this.stderr.lines(15)}`, {
            hint: 'Raise JLAB_MCP_SERVER_START_TIMEOUT if the machine is slow; the next tool call tries again.',
          });
        }
        await sleep(interval, signal);
      }
    })();
    exited.catch(() => {});
    const result = await Promise.race([ready, exited]);
    this.url = endpoint.baseUrl;
    child.once('exit', (code, sig) => {
      if (this.child === child) this.lostListener?.(`the local Jupyter server exited (${sig ?? `code ${code}`}).\n${this.stderr.lines(10)}`);
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
      return `the local Jupyter server exited (${child.signalCode ?? `code ${child.exitCode}`}).\n${this.stderr.lines(10)}`;
    }
    return undefined;
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
    this.child = undefined;
    this.url = undefined;
    if (child) await terminate(child, 8000);
  }

  describe(): Record<string, unknown> {
    return { kind: this.kind, url: this.url, pid: this.child?.pid, runtimeDir: this.runtimeDir };
  }
}
