import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KernelConnection, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { JlabError, messageOf } from '../util/errors.js';
import { withDeadline } from '../util/deadline.js';
import { log } from '../util/log.js';
import { redactSecrets } from '../util/secrets.js';
import type { KernelSpecInfo } from '../notebook/types.js';
import type { KernelLoss } from './kernelPort.js';
import type { ManagedKernel } from './managedKernel.js';
import type { JupyterRestClient } from './restClient.js';

export type { KernelLoss } from './kernelPort.js';

export interface SetupFiles {
  python?: string;
  pythonSpool?: string;
}

let setupFiles: Promise<SetupFiles> | undefined;

/** Per-language code run silently in each kernel we start (assets/kernel), read once. */
export function kernelSetup(): Promise<SetupFiles> {
  const asset = (name: string) => readFile(fileURLToPath(new URL(`../../assets/kernel/${name}`, import.meta.url)), 'utf8').catch(() => undefined);
  setupFiles ??= Promise.all([asset('python_setup.py'), asset('python_spool.py')]).then(([python, pythonSpool]) => ({ python, pythonSpool }));
  return setupFiles;
}

/**
 * The Python setup with what input() and debugger prompts get in front of it (None: they fail at
 * once), then the output spool when the session has one. A JSON string is also a valid Python
 * string literal.
 */
export function pythonSetup(files: SetupFiles, stdinAnswer: string | undefined, spoolPath: string | undefined): string | undefined {
  if (files.python === undefined) return undefined;
  const setup = `_jlab_mcp_stdin_answer = ${stdinAnswer === undefined ? 'None' : JSON.stringify(stdinAnswer)}\n${files.python}`;
  if (!spoolPath || !files.pythonSpool) return setup;
  return `${setup}\n_jlab_mcp_spool_path = ${JSON.stringify(spoolPath)}\n${files.pythonSpool}`;
}

/** Resolves once the kernel's websocket is connected. */
function connected(connection: Kernel.IKernelConnection): Promise<void> {
  if (connection.connectionStatus === 'connected') return Promise.resolve();
  return new Promise((resolve) => {
    const onChange = (_: unknown, status: Kernel.ConnectionStatus) => {
      if (status !== 'connected') return;
      connection.connectionStatusChanged.disconnect(onChange);
      resolve();
    };
    connection.connectionStatusChanged.connect(onChange);
  });
}

/** How often a kernel with a request pending is looked up on the server, in ms. */
const KERNEL_PROBE_MS = 5_000;

/** Deadline of an interrupt or restart request, in ms (a restart includes the new kernel's websocket). */
const CONTROL_TIMEOUT_MS = 30_000;

/**
 * One running kernel and its websocket. Knows its kernelspec and language_info (from
 * kernel_info_reply) and tells listeners when the kernel dies or the server goes away, so that
 * a running execution can end instead of waiting forever.
 */
export class KernelHandle implements ManagedKernel {
  private readonly lossListeners = new Set<(loss: KernelLoss) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  /** How many times the server restarted this kernel after it died. */
  restarts = 0;
  /** The setup code must run (again) before the next user request: after start and every restart. */
  private setupPending = true;
  private setupCode?: string;
  /** Where a Python kernel spools the current cell's messages (see assets/kernel/python_spool.py). */
  spoolPath?: string;

  private constructor(
    readonly connection: KernelConnection,
    readonly spec: KernelSpecInfo,
    readonly languageInfo: Record<string, unknown>,
    private readonly rest: JupyterRestClient,
    private readonly setup: SetupFiles,
    /** What input() gets; undefined means input() fails at once. */
    private readonly stdinAnswer?: string,
  ) {
    this.setupCode = languageInfo.name === 'python' ? pythonSetup(setup, stdinAnswer, undefined) : undefined;
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
    const startedAt = Date.now();
    const model = await rest.startKernel(name, timeoutMs);
    try {
      // One budget for the whole start; kernel_info still gets a moment after a slow POST.
      const left = Math.max(timeoutMs - (Date.now() - startedAt), Math.min(timeoutMs, 5000));
      return await KernelHandle.connect(rest, model, left, stdinAnswer);
    } catch (error) {
      await rest.shutdownKernel(model.id).catch(() => {});
      throw new JlabError('KERNEL_START_FAILED', redactSecrets(`Kernel ${model.name} did not start: ${messageOf(error)}`), {
        context: { kernelId: model.id },
        hint: 'Check the kernel with list_kernels, or try again.',
        cause: error,
      });
    }
  }

  /**
   * Connects to a kernel an earlier jlab-mcp started (reattach); undefined when the server no
   * longer has it. It may be busy with a long cell, and a busy kernel answers kernel_info only
   * after it: so this waits for the websocket alone, and the language comes from the notebook.
   */
  static async adopt(
    rest: JupyterRestClient,
    kernelId: string,
    timeoutMs: number,
    stdinAnswer: string | undefined,
    languageInfo: Record<string, unknown> | undefined,
  ): Promise<KernelHandle | undefined> {
    const model = await rest.kernelModel(kernelId);
    if (!model) return undefined;
    return KernelHandle.connect(rest, model, timeoutMs, stdinAnswer, languageInfo);
  }

  /**
   * Opens the websocket and learns the kernel's spec and language — from kernel_info, or from
   * `knownLanguage` without waiting for it; the connection is disposed on failure.
   */
  private static async connect(
    rest: JupyterRestClient,
    model: Kernel.IModel,
    timeoutMs: number,
    stdinAnswer?: string,
    knownLanguage?: Record<string, unknown>,
  ): Promise<KernelHandle> {
    const setup = await kernelSetup();
    const connection = new KernelConnection({ model, serverSettings: rest.settings, handleComms: false });
    try {
      const what = `Kernel ${model.id} (${model.name}) ${knownLanguage ? 'connection' : 'start'}`;
      const languageInfo = knownLanguage ?? { ...(await withDeadline(connection.info, timeoutMs, what)).language_info };
      if (knownLanguage) await withDeadline(connected(connection), timeoutMs, what);
      const specModel = await connection.spec;
      const spec: KernelSpecInfo = {
        name: model.name,
        display_name: specModel?.display_name ?? model.name,
        language: specModel?.language ?? String(languageInfo.name ?? ''),
      };
      return new KernelHandle(connection, spec, languageInfo, rest, setup, stdinAnswer);
    } catch (error) {
      connection.dispose();
      throw error;
    }
  }

  /** Makes a Python kernel spool each cell's messages to `path` (from its next request on). */
  setSpoolPath(path: string): void {
    if (this.languageInfo.name !== 'python' || !this.setup.pythonSpool) return;
    this.spoolPath = path;
    this.setupCode = pythonSetup(this.setup, this.stdinAnswer, path);
    this.setupPending = true;
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

  /** Subscribes to every message received from the kernel (any channel); returns the unsubscribe function. */
  onMessage(listener: (message: KernelMessage.IMessage) => void): () => void {
    const onAny = (_: unknown, { msg, direction }: Kernel.IAnyMessageArgs) => {
      if (direction === 'recv') listener(msg);
    };
    this.connection.anyMessage.connect(onAny);
    return () => this.connection.anyMessage.disconnect(onAny);
  }

  onIOPubMessage(listener: (message: KernelMessage.IIOPubMessage) => void): () => void {
    const onIOPub = (_: unknown, message: KernelMessage.IIOPubMessage) => listener(message);
    this.connection.iopubMessage.connect(onIOPub);
    return () => this.connection.iopubMessage.disconnect(onIOPub);
  }

  requestKernelInfo(): Promise<unknown> {
    return this.connection.requestKernelInfo();
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

  /**
   * Sends an execute request. `stopOnError` asks the kernel to abort requests queued behind this
   * one if it fails — only for a resume's replay, which sends a cell ahead; for one cell at a
   * time it would do nothing but (ipykernel 6) now and then abort the next request as well.
   */
  requestExecute(
    code: string,
    stopOnError = false,
    storeHistory = true,
  ): Kernel.IShellFuture<KernelMessage.IExecuteRequestMsg, KernelMessage.IExecuteReplyMsg> {
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
    const future = this.connection.requestExecute({ code, allow_stdin: answer !== undefined, stop_on_error: stopOnError, store_history: storeHistory });
    if (answer !== undefined) {
      future.onStdin = (message) => {
        if (message.header.msg_type === 'input_request') future.sendInputReply({ status: 'ok', value: answer }, message.header as never);
      };
    }
    this.watchWhilePending(future.done);
    return future;
  }

  /**
   * True once the server no longer has this kernel (shut down from outside, culled). Some servers
   * (jupyter-server 1.x) leave its websocket open and silent then, so nothing else tells us.
   */
  gone = false;

  /**
   * Asks the server (one REST GET) whether the kernel still exists. If it does not, the
   * connection is ended as JupyterLab's KernelManager does for a kernel that left the running
   * list: status 'dead' (a running cell ends), websocket closed. A failed request decides nothing.
   */
  async checkGone(timeoutMs = 5_000): Promise<boolean> {
    if (this.gone) return true;
    if (this.connection.isDisposed) return false;
    const model = await withDeadline(this.rest.kernelModel(this.id), timeoutMs, `Lookup of kernel ${this.id}`).catch(() => null);
    if (model !== undefined || this.connection.isDisposed) return false;
    log.warn(`kernel ${this.id} no longer exists on the Jupyter server`);
    this.gone = true;
    this.connection.handleShutdown();
    return true;
  }

  /** While a request is pending, checks every few seconds that the kernel still exists. */
  private watchWhilePending(done: Promise<unknown>): void {
    const timer = setInterval(() => void this.checkGone(), KERNEL_PROBE_MS);
    timer.unref();
    done.then(
      () => clearInterval(timer),
      () => clearInterval(timer),
    );
  }

  /**
   * Runs `code` silently and returns the reply's `user_expressions` (evaluated by the kernel after
   * the code), within `timeoutMs`. silent=true and store_history=false: no execute_input, no
   * execution count, no history, and whatever it displays carries this request's id, so it lands
   * in no cell. The shell channel is FIFO: behind a running cell this waits for it (callers check
   * first). Rejects with TIMEOUT, EXECUTION_FAILED (the code raised) or the library's error when
   * the kernel restarts meanwhile. (inspect_variables, kernel_resources, the environment on record.)
   */
  async evaluateSilently(code: string, userExpressions: Record<string, string>, timeoutMs: number): Promise<Record<string, unknown>> {
    const future = this.connection.requestExecute({
      code,
      silent: true,
      store_history: false,
      allow_stdin: false,
      stop_on_error: false,
      user_expressions: userExpressions,
    });
    try {
      const { content } = await withDeadline(future.done, timeoutMs, `A silent request to kernel ${this.id}`);
      if (content.status !== 'ok') {
        const why = content.status === 'error' ? `${content.ename}: ${content.evalue}` : content.status;
        throw new JlabError('EXECUTION_FAILED', `The kernel could not run jlab-mcp's silent request (${why}).`, { context: { kernelId: this.id } });
      }
      return (content.user_expressions ?? {}) as Record<string, unknown>;
    } finally {
      future.dispose();
    }
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
