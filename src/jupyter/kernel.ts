import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KernelConnection, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { JlabError, messageOf } from '../util/errors.js';
import { withDeadline } from '../util/deadline.js';
import { log } from '../util/log.js';
import { redactSecrets } from '../util/secrets.js';
import type { KernelSpecInfo } from '../notebook/types.js';
import type { JupyterRestClient } from './restClient.js';

let setupFiles: Promise<{ python?: string }> | undefined;

/** Per-language code run silently in each kernel we start (assets/kernel), read once. */
function kernelSetup(): Promise<{ python?: string }> {
  setupFiles ??= readFile(fileURLToPath(new URL('../../assets/kernel/python_setup.py', import.meta.url)), 'utf8').then(
    (python) => ({ python }),
    () => ({}),
  );
  return setupFiles;
}

/**
 * The Python setup with what input() and debugger prompts get in front of it (None: they fail at
 * once). A JSON string is also a valid Python string literal.
 */
function pythonSetup(code: string | undefined, stdinAnswer: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  return `_jlab_mcp_stdin_answer = ${stdinAnswer === undefined ? 'None' : JSON.stringify(stdinAnswer)}\n${code}`;
}

/** Deadline of an interrupt or restart request, in ms (a restart includes the new kernel's websocket). */
const CONTROL_TIMEOUT_MS = 30_000;

/** Why a kernel stopped answering in the middle of something. */
export type KernelLoss = 'died' | 'disconnected';

/**
 * One running kernel and its websocket. Knows its kernelspec and language_info (from
 * kernel_info_reply) and tells listeners when the kernel dies or the server goes away, so that
 * a running execution can end instead of waiting forever.
 */
export class KernelHandle {
  private readonly lossListeners = new Set<(loss: KernelLoss) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  /** How many times the server restarted this kernel after it died. */
  restarts = 0;
  /** The setup code must run (again) before the next user request: after start and every restart. */
  private setupPending = true;

  private constructor(
    readonly connection: Kernel.IKernelConnection,
    readonly spec: KernelSpecInfo,
    readonly languageInfo: Record<string, unknown>,
    private readonly rest: JupyterRestClient,
    private readonly setupCode?: string,
    /** What input() gets; undefined means input() fails at once. */
    private readonly stdinAnswer?: string,
  ) {
    connection.statusChanged.connect((_, status) => {
      if (status === 'autorestarting' || status === 'restarting' || status === 'dead') {
        this.setupPending = true;
        if (status === 'autorestarting') this.restarts++;
        this.emitLoss('died');
      }
    });
    connection.connectionStatusChanged.connect((_, status) => {
      if (status === 'disconnected') this.emitLoss('disconnected');
      if (status === 'connecting') for (const listener of [...this.reconnectListeners]) listener();
    });
  }

  /** Starts a kernel through REST, opens its websocket and waits for kernel_info. */
  static async start(rest: JupyterRestClient, name: string | undefined, timeoutMs: number, stdinAnswer?: string): Promise<KernelHandle> {
    const setup = await kernelSetup();
    const model = await rest.startKernel(name);
    const connection = new KernelConnection({ model, serverSettings: rest.settings, handleComms: false });
    try {
      const reply = await withDeadline(connection.info, timeoutMs, `Kernel ${model.id} (${model.name}) start`);
      const specModel = await connection.spec;
      const spec: KernelSpecInfo = {
        name: model.name,
        display_name: specModel?.display_name ?? model.name,
        language: specModel?.language ?? reply.language_info.name,
      };
      const setupCode = reply.language_info.name === 'python' ? pythonSetup(setup.python, stdinAnswer) : undefined;
      return new KernelHandle(connection, spec, { ...reply.language_info }, rest, setupCode, stdinAnswer);
    } catch (error) {
      connection.dispose();
      await rest.shutdownKernel(model.id).catch(() => {});
      throw new JlabError('KERNEL_START_FAILED', redactSecrets(`Kernel ${model.name} did not start: ${messageOf(error)}`), {
        context: { kernelId: model.id },
        hint: 'Check the kernel with list_kernels, or try again.',
        cause: error,
      });
    }
  }

  get id(): string {
    return this.connection.id;
  }

  get status(): Kernel.Status {
    return this.connection.status;
  }

  get connectionStatus(): Kernel.ConnectionStatus {
    return this.connection.connectionStatus;
  }

  /** Subscribes to kernel death / server loss; returns the unsubscribe function. */
  onLoss(listener: (loss: KernelLoss) => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  /** Subscribes to the websocket dropping and reconnecting (maybe a blip, maybe the server gone). */
  onReconnecting(listener: () => void): void {
    this.reconnectListeners.add(listener);
  }

  /**
   * The server is gone: end whatever waits on this kernel now, as a lost connection, and stop
   * the websocket's reconnect attempts (they would go on for as long as the process lives).
   */
  abandon(): void {
    this.emitLoss('disconnected');
    this.connection.dispose();
  }

  requestExecute(code: string): Kernel.IShellFuture<KernelMessage.IExecuteRequestMsg, KernelMessage.IExecuteReplyMsg> {
    if (this.setupPending && this.setupCode) {
      // Silent: no execution count, no history, no outputs in anyone's cell. The shell channel
      // keeps order, so it runs before the request below.
      const setup = this.connection.requestExecute({ code: this.setupCode, silent: true, store_history: false, allow_stdin: false });
      setup.done.then(
        () => setup.dispose(),
        () => {},
      );
    }
    this.setupPending = false;
    // Nobody can type: input() either fails at once inside the kernel (allow_stdin=false) or
    // gets the configured answer at once — it never waits.
    const answer = this.stdinAnswer;
    const future = this.connection.requestExecute({ code, allow_stdin: answer !== undefined, stop_on_error: true, store_history: true });
    if (answer !== undefined) {
      future.onStdin = (message) => {
        if (message.header.msg_type === 'input_request') future.sendInputReply({ status: 'ok', value: answer }, message.header as never);
      };
    }
    return future;
  }

  /** Sends an interrupt (SIGINT for ipykernel) through the server, within `timeoutMs`. */
  async interrupt(timeoutMs = CONTROL_TIMEOUT_MS): Promise<void> {
    await withDeadline(this.connection.interrupt(), timeoutMs, `Interrupt of kernel ${this.id}`);
  }

  /** Restarts the kernel and waits until its websocket is back, within `timeoutMs`. */
  async restart(timeoutMs = CONTROL_TIMEOUT_MS): Promise<void> {
    await withDeadline(this.connection.restart(), timeoutMs, `Restart of kernel ${this.id}`);
  }

  /** Asks the server to stop the kernel; never throws (the server may already be gone). */
  async shutdown(): Promise<void> {
    try {
      this.connection.dispose();
      await withDeadline(this.rest.shutdownKernel(this.id), 10_000, `Shutdown of kernel ${this.id}`);
    } catch (error) {
      log.debug(`kernel ${this.id} shutdown: ${messageOf(error)}`);
    }
  }

  private emitLoss(loss: KernelLoss): void {
    for (const listener of [...this.lossListeners]) listener(loss);
  }
}
