// A scripted stand-in for a Jupyter kernel behind the KernelPort interface, for unit tests of the
// session core (as JupyterLab's services tests use KernelMock). It keeps a real kernel's order:
// one request at a time on the shell channel; busy, execute_input, outputs, execute_reply, idle;
// `done` after reply and idle; stop_on_error aborts what was queued behind a failure; a restart or
// death cancels every pending request. Real-Jupyter tests stay next to it (test/integration, e2e).
import { appendFileSync } from 'node:fs';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { ExecuteFuture, KernelLoss } from '../../src/jupyter/kernelPort.js';
import type { ManagedKernel } from '../../src/jupyter/managedKernel.js';
import type { KernelSpecInfo } from '../../src/notebook/types.js';

/** What a script does for one execute request. Resolve (or return) to reply; see {@link FakeRun}. */
export type CellScript = (run: FakeRun) => void | Promise<void>;

/** Why a pending request was cancelled by the fake (as the library cancels futures). */
class CancelledRequest extends Error {}

/** One execute request as the fake kernel runs it; the script's handle on it. */
export class FakeRun {
  readonly executionCount: number;
  /** Set by error(): the reply says status "error". */
  failed = false;
  /** Set by withoutReply(): the kernel goes idle and never replies (ipykernel on source with a NUL byte). */
  unanswered = false;
  private interruptListeners: Array<() => void> = [];
  private cancelListeners: Array<(error: Error) => void> = [];

  constructor(
    private readonly kernel: FakeKernel,
    readonly code: string,
    readonly msgId: string,
    readonly stopOnError: boolean,
    /** False for a scratch run: the execution count does not move (IPython's store_history=False). */
    readonly storeHistory = true,
  ) {
    this.executionCount = kernel.executionCount;
  }

  stream(text: string, name: 'stdout' | 'stderr' = 'stdout'): void {
    this.kernel.emitIOPub(this.msgId, 'stream', { name, text });
  }

  display(data: Record<string, unknown>, displayId?: string): void {
    this.kernel.emitIOPub(this.msgId, 'display_data', { data, metadata: {}, transient: displayId ? { display_id: displayId } : {} });
  }

  result(text: string): void {
    this.kernel.emitIOPub(this.msgId, 'execute_result', { data: { 'text/plain': text }, metadata: {}, execution_count: this.executionCount });
  }

  /** Raises: an error output, and the reply says "error". */
  error(ename: string, evalue: string): void {
    this.failed = true;
    this.kernel.emitIOPub(this.msgId, 'error', { ename, evalue, traceback: [`${ename}: ${evalue}`] });
  }

  /** The kernel fails inside its message handler: idle follows, no execute_reply ever does. */
  withoutReply(): void {
    this.unanswered = true;
  }

  /**
   * Resolves at the next interrupt while this request runs; rejects when the kernel restarts or
   * dies under it (the script then ends without a reply, as the real kernel's request would).
   */
  interrupted(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.interruptListeners.push(resolve);
      this.cancelListeners.push(reject);
    });
  }

  /** Never resolves on its own: only a restart, death or loss of the server ends the request. */
  forever(): Promise<never> {
    return new Promise((_, reject) => this.cancelListeners.push(reject));
  }

  /** @internal */
  deliverInterrupt(): boolean {
    const listeners = this.interruptListeners.splice(0);
    for (const listener of listeners) listener();
    return listeners.length > 0;
  }

  /** @internal */
  cancel(error: Error): void {
    for (const listener of this.cancelListeners.splice(0)) listener(error);
  }
}

/** Runs until interrupted, then raises KeyboardInterrupt (what ipykernel does with SIGINT). */
export const untilInterrupted =
  (before = ''): CellScript =>
  async (run) => {
    if (before) run.stream(before);
    await run.interrupted();
    run.error('KeyboardInterrupt', '');
  };

/** Swallows every interrupt (a C loop, a handler that ignores SIGINT): only a restart ends it. */
export const ignoresInterrupts =
  (before = ''): CellScript =>
  async (run) => {
    if (before) run.stream(before);
    await run.forever();
  };

/** A script that runs until the test calls `release()`: for cells that must still be running. */
export function gate(script: CellScript = () => {}): { script: CellScript; release: () => void; started: Promise<FakeRun> } {
  let release!: () => void;
  let markStarted!: (run: FakeRun) => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<FakeRun>((resolve) => (markStarted = resolve));
  return {
    release,
    started,
    script: async (run) => {
      markStarted(run);
      await Promise.race([released, run.forever()]);
      await script(run);
    },
  };
}

interface Pending {
  run: FakeRun;
  future: FakeFuture;
}

class FakeFuture implements ExecuteFuture {
  readonly msg: { header: { msg_id: string } };
  onIOPub: (message: KernelMessage.IIOPubMessage) => void = () => {};
  readonly done: Promise<KernelMessage.IExecuteReplyMsg>;
  disposed = false;
  resolveDone!: (reply: KernelMessage.IExecuteReplyMsg) => void;
  rejectDone!: (error: Error) => void;

  constructor(msgId: string) {
    this.msg = { header: { msg_id: msgId } };
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // a cancelled request is told through onLoss; nobody need catch this
  }

  dispose(): void {
    this.disposed = true;
  }
}

let kernelCount = 0;

/** What a fake kernel says it is; every field has a Python 3 default. */
export interface FakeKernelIdentity {
  id?: string;
  spec?: KernelSpecInfo;
  languageInfo?: Record<string, unknown>;
}

/**
 * A fake kernel: scripts are picked by the exact code string ({@link on}), else the default
 * script (no output, status ok). Everything it was asked is recorded for the test to check.
 * It is also what the session manager holds ({@link ManagedKernel}): a spec, a websocket that
 * can drop and come back ({@link dropWebsocket}, {@link reconnect}), a spool path.
 */
export class FakeKernel implements ManagedKernel {
  readonly id: string;
  readonly spec: KernelSpecInfo;
  readonly languageInfo: Record<string, unknown>;
  connectionStatus: Kernel.ConnectionStatus = 'connected';
  /** Disposed by shutdown() and abandon(), as KernelHandle's connection is. */
  readonly connection = { isDisposed: false };
  status: Kernel.Status = 'idle';
  restarts = 0;
  gone = false;
  /** When set, every iopub message is appended there as one JSON line, as assets/kernel/python_spool.py does. */
  spoolPath?: string;
  executionCount = 0;
  /** Every execute request in arrival order (the code sent, stop_on_error). */
  readonly requests: Array<{ code: string; stopOnError: boolean; msgId: string; storeHistory: boolean }> = [];
  interrupts = 0;
  restartRequests = 0;
  shutDown = false;
  abandoned = false;
  /** Awaited by shutdown() once the connection is disposed: a server slow to answer the shutdown request. */
  whileShuttingDown?: () => Promise<void>;
  /** Set to make interrupt() reject (the server did not answer the interrupt request). */
  interruptFails?: Error;
  defaultScript: CellScript = () => {};

  private readonly scripts = new Map<string, CellScript>();
  private readonly queue: Pending[] = [];
  private running?: Pending;
  private readonly lossListeners = new Set<(loss: KernelLoss) => void>();
  private readonly iopubListeners = new Set<(message: KernelMessage.IIOPubMessage) => void>();
  private readonly messageListeners = new Set<(message: KernelMessage.IMessage) => void>();
  private readonly requestListeners = new Set<(run: FakeRun) => void>();
  private readonly arrivalListeners: Array<{ code: string; resolve: () => void }> = [];
  private readonly reconnectListeners = new Set<() => void>();
  private msgCount = 0;

  constructor(identity: FakeKernelIdentity = {}) {
    this.id = identity.id ?? `fake-kernel-${++kernelCount}`;
    this.spec = identity.spec ?? { name: 'python3', display_name: 'Python 3 (fake)', language: 'python' };
    this.languageInfo = identity.languageInfo ?? { name: 'python', version: '3.12.0', file_extension: '.py' };
  }

  setSpoolPath(path: string): void {
    this.spoolPath = path;
  }

  onReconnecting(listener: () => void): void {
    this.reconnectListeners.add(listener);
  }

  /** The websocket drops and the library starts reconnecting ('connecting'); requests stay pending. */
  dropWebsocket(): void {
    this.connectionStatus = 'connecting';
    for (const listener of [...this.reconnectListeners]) listener();
  }

  /** The websocket is back. */
  reconnect(): void {
    this.connectionStatus = 'connected';
  }

  /** Runs `script` whenever exactly `code` is executed. */
  on(code: string, script: CellScript): this {
    this.scripts.set(code, script);
    return this;
  }

  /** Resolves when the kernel starts running a request (the next one, or the one with `code`). */
  nextRun(code?: string): Promise<FakeRun> {
    return new Promise((resolve) => {
      const listener = (run: FakeRun) => {
        if (code !== undefined && run.code !== code) return;
        this.requestListeners.delete(listener);
        resolve(run);
      };
      this.requestListeners.add(listener);
    });
  }

  /** Resolves when a request with `code` arrives (before it runs: it may wait behind others). */
  nextRequest(code: string): Promise<void> {
    return new Promise((resolve) => this.arrivalListeners.push({ code, resolve }));
  }

  requestExecute(code: string, stopOnError = false, storeHistory = true): ExecuteFuture {
    const msgId = `${this.id}-execute-${++this.msgCount}`;
    this.requests.push({ code, stopOnError, msgId, storeHistory });
    const future = new FakeFuture(msgId);
    this.queue.push({ run: new FakeRun(this, code, msgId, stopOnError, storeHistory), future });
    for (const arrival of this.arrivalListeners.filter((each) => each.code === code)) {
      this.arrivalListeners.splice(this.arrivalListeners.indexOf(arrival), 1);
      arrival.resolve();
    }
    if (!this.running) queueMicrotask(() => void this.drain());
    return future;
  }

  onIOPubMessage(listener: (message: KernelMessage.IIOPubMessage) => void): () => void {
    this.iopubListeners.add(listener);
    return () => this.iopubListeners.delete(listener);
  }

  onMessage(listener: (message: KernelMessage.IMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Answered once the requests before it are done (the shell channel is FIFO). */
  async requestKernelInfo(): Promise<unknown> {
    while (this.running || this.queue.length) await this.idle();
    return { status: 'ok' };
  }

  onLoss(listener: (loss: KernelLoss) => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  async interrupt(): Promise<void> {
    this.interrupts++;
    if (this.interruptFails) throw this.interruptFails;
    this.running?.run.deliverInterrupt();
  }

  /** Like the server's restart: pending requests are cancelled, the state (execution count) is gone. */
  async restart(): Promise<void> {
    this.restartRequests++;
    this.status = 'restarting';
    this.cancelAll('died');
    this.executionCount = 0;
    this.status = 'idle';
  }

  /** Like KernelHandle: the connection is disposed (a loss as 'disconnected', pending requests cancelled), the status left as it was. */
  async shutdown(): Promise<void> {
    this.shutDown = true;
    this.dispose();
    this.cancelAll('disconnected');
    await this.whileShuttingDown?.();
  }

  abandon(): void {
    this.abandoned = true;
    this.dispose();
    this.cancelAll('disconnected');
  }

  private dispose(): void {
    this.connection.isDisposed = true;
    this.connectionStatus = 'disconnected';
  }

  /** The kernel process dies; the server restarts it (autorestart): variables and pending requests are lost. */
  die(): void {
    this.restarts++;
    this.status = 'autorestarting';
    this.cancelAll('died');
    this.executionCount = 0;
    this.status = 'idle';
  }

  /** The kernel dies for good (no autorestart): status dead. */
  dieForGood(): void {
    this.status = 'dead';
    this.cancelAll('died');
  }

  /** The server goes away: the websocket drops; requests stay pending until someone abandons the kernel. */
  loseServer(): void {
    this.emitLoss('disconnected');
  }

  /** Sends an iopub message to the request's future and to iopub listeners, as the connection does. */
  emitIOPub(parentMsgId: string, msgType: string, content: Record<string, unknown>): void {
    const message = this.message('iopub', msgType, content, parentMsgId) as KernelMessage.IIOPubMessage;
    if (this.spoolPath) appendFileSync(this.spoolPath, `${JSON.stringify({ header: message.header, parent_header: message.parent_header, content })}\n`);
    for (const listener of [...this.messageListeners]) listener(message);
    const pending = this.running?.run.msgId === parentMsgId ? this.running : this.queue.find((each) => each.run.msgId === parentMsgId);
    if (pending && !pending.future.disposed) pending.future.onIOPub(message);
    for (const listener of [...this.iopubListeners]) listener(message);
  }

  private message(channel: string, msgType: string, content: Record<string, unknown>, parentMsgId: string): KernelMessage.IMessage {
    return {
      channel,
      header: {
        msg_id: `${this.id}-msg-${++this.msgCount}`,
        msg_type: msgType,
        session: this.id,
        username: 'fake',
        date: new Date().toISOString(),
        version: '5.3',
      },
      parent_header: { msg_id: parentMsgId, msg_type: 'execute_request', session: 'client', username: 'fake', date: '', version: '5.3' },
      metadata: {},
      content,
    } as unknown as KernelMessage.IMessage;
  }

  private idleWaiters: Array<() => void> = [];

  private idle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Bumped when pending requests are cancelled: a drain loop from before stops there. */
  private epoch = 0;

  private async drain(): Promise<void> {
    const epoch = this.epoch;
    while (epoch === this.epoch && !this.running && this.queue.length) {
      const pending = this.queue.shift()!;
      this.running = pending;
      await this.execute(pending);
      if (this.running === pending) this.running = undefined;
      for (const waiter of this.idleWaiters.splice(0)) waiter();
    }
  }

  private async execute({ run, future }: Pending): Promise<void> {
    this.status = 'busy';
    this.emitIOPub(run.msgId, 'status', { execution_state: 'busy' });
    if (run.storeHistory) this.executionCount++;
    (run as { executionCount: number }).executionCount = this.executionCount;
    this.emitIOPub(run.msgId, 'execute_input', { code: run.code, execution_count: this.executionCount });
    for (const listener of [...this.requestListeners]) listener(run);
    const script = this.scripts.get(run.code) ?? this.defaultScript;
    try {
      await script(run);
    } catch (error) {
      if (error instanceof CancelledRequest) return; // restarted or died under it: no reply, ever
      run.error('ScriptError', String(error));
    }
    if (run.unanswered) {
      this.status = 'idle';
      this.emitIOPub(run.msgId, 'status', { execution_state: 'idle' });
      return;
    }
    this.reply(run, future, run.failed ? 'error' : 'ok');
    if (run.failed && run.stopOnError) {
      for (const queued of this.queue.splice(0)) this.reply(queued.run, queued.future, 'aborted', true);
    }
  }

  private reply(run: FakeRun, future: FakeFuture, status: 'ok' | 'error' | 'aborted', withBusy = false): void {
    if (withBusy) this.emitIOPub(run.msgId, 'status', { execution_state: 'busy' });
    const content = status === 'aborted' ? { status } : { status, execution_count: status === 'ok' || status === 'error' ? run.executionCount : null };
    const reply = this.message('shell', 'execute_reply', content, run.msgId) as KernelMessage.IExecuteReplyMsg;
    for (const listener of [...this.messageListeners]) listener(reply);
    this.status = 'idle';
    this.emitIOPub(run.msgId, 'status', { execution_state: 'idle' });
    future.resolveDone(reply);
  }

  /** Cancels the running and queued requests, as a restart, death or dispose does. */
  private cancelAll(loss: KernelLoss | undefined): void {
    this.epoch++;
    if (loss) this.emitLoss(loss);
    const cancelled = [...(this.running ? [this.running] : []), ...this.queue.splice(0)];
    this.running = undefined;
    for (const { run, future } of cancelled) {
      run.cancel(new CancelledRequest(`Canceled future for execute_request message ${run.msgId}`));
      future.rejectDone(new Error(`Canceled future for execute_request message ${run.msgId}`));
    }
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  private emitLoss(loss: KernelLoss): void {
    for (const listener of [...this.lossListeners]) listener(loss);
  }
}
