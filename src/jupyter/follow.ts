import { readFile } from 'node:fs/promises';
import type { KernelMessage } from '@jupyterlab/services';
import type { ExecutionEnd } from './execute.js';
import type { KernelPort } from './kernelPort.js';

/** A message as the spool keeps it: enough for the output collector. */
type SpooledMessage = Pick<KernelMessage.IIOPubMessage, 'header' | 'parent_header' | 'content'>;

/**
 * Follows an execution another jlab-mcp started (reattach): the messages the kernel spooled
 * while nobody was attached come first, then live ones from the websocket (each message once,
 * by its id), until the kernel reports the request idle — at once if it already did while we
 * were away. Without a spool (not a Python kernel) what was printed meanwhile is missing. Either
 * way a kernel_info request marks the end too: the shell channel answers in order, so its reply
 * comes once the cell is done (the server's own busy/idle flag cannot tell: it follows every
 * client's requests, control ones included).
 * `beforeLive(recovered)` is called once, after the spool's messages and before any live one:
 * `recovered` says whether the spool had this cell.
 */
export async function followExecution(
  kernel: KernelPort,
  msgId: string,
  onIOPub: (message: KernelMessage.IIOPubMessage) => void,
  beforeLive: (recovered: boolean) => void,
): Promise<ExecutionEnd> {
  const seen = new Set<string>();
  let executionCount: number | null = null;
  let failed = false;
  let settle!: (end: ExecutionEnd) => void;
  const end = new Promise<ExecutionEnd>((resolve) => (settle = resolve));
  let settled = false;
  const finish = (ending: ExecutionEnd) => {
    if (settled) return;
    settled = true;
    stopLive();
    unsubscribe();
    settle(ending);
  };
  const handle = (message: SpooledMessage) => {
    if (message.parent_header && (message.parent_header as { msg_id?: string }).msg_id !== msgId) return;
    if (seen.has(message.header.msg_id)) return;
    seen.add(message.header.msg_id);
    const type = message.header.msg_type;
    const content = message.content as Record<string, unknown>;
    if (type === 'execute_input' && typeof content.execution_count === 'number') executionCount = content.execution_count;
    if (type === 'error') failed = true;
    if (type === 'status') {
      if (content.execution_state === 'idle') finish({ kind: failed ? 'error' : 'ok', executionCount });
      return;
    }
    onIOPub(message as KernelMessage.IIOPubMessage);
  };
  // Live messages are held back until the spool has been read, so the order is kept.
  const early: SpooledMessage[] = [];
  let spoolRead = false;
  const onLive = (message: KernelMessage.IIOPubMessage) => {
    if (spoolRead) handle(message);
    else early.push(message);
  };
  const stopLive = kernel.onIOPubMessage(onLive);
  const unsubscribe = kernel.onLoss((loss) => finish({ kind: 'lost', loss }));
  const spooled = kernel.spoolPath ? await readSpool(kernel.spoolPath, msgId) : [];
  beforeLive(spooled.length > 0);
  for (const message of spooled) handle(message);
  spoolRead = true;
  for (const message of early.splice(0)) handle(message);
  if (settled) return end;
  // Behind the cell on the shell channel: its reply means the cell is over, whatever we saw.
  kernel.requestKernelInfo().then(
    async () => {
      if (kernel.spoolPath) for (const message of await readSpool(kernel.spoolPath, msgId)) handle(message);
      finish({ kind: failed ? 'error' : 'ok', executionCount });
    },
    () => {}, // the connection went away: the loss listener ends the run
  );
  return end;
}

/** The spool's messages for `msgId`, in order; lines that do not parse (a torn last line) are skipped. */
async function readSpool(path: string, msgId: string): Promise<SpooledMessage[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const messages: SpooledMessage[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const message = JSON.parse(line) as SpooledMessage;
      if ((message.parent_header as { msg_id?: string } | undefined)?.msg_id === msgId) messages.push(message);
    } catch {
      // a line cut short by a crash
    }
  }
  return messages;
}
