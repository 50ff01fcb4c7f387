import type * as nbformat from '@jupyterlab/nbformat';
import type { KernelMessage } from '@jupyterlab/services';
import { applyCarriageReturnsAndBackspaces } from '../output/carriage.js';
import type { MimeBundle, Output } from './types.js';

type StreamOutput = { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string };

/**
 * Builds a cell's nbformat outputs from iopub messages, as a notebook frontend would:
 * consecutive chunks of one stream merge into one output with `\r` and `\b` applied,
 * `clear_output(wait=True)` clears when the next output arrives, and
 * `update_display_data` rewrites the outputs that share its display_id.
 */
export class OutputCollector {
  outputs: Output[] = [];
  private readonly cuts = new WeakMap<object, { head: string; tail: string; omitted: number }>();

  /** @param streamLimit characters one stream output may hold in the notebook; beyond, head and tail are kept. */
  constructor(private readonly streamLimit = Number.POSITIVE_INFINITY) {}

  private clearPending = false;
  private readonly displays = new Map<string, Output[]>();

  handle(message: KernelMessage.IIOPubMessage): void {
    const type = message.header.msg_type;
    const content = message.content as Record<string, unknown>;
    switch (type) {
      case 'stream':
        this.addStream(content.name === 'stderr' ? 'stderr' : 'stdout', String(content.text ?? ''));
        break;
      case 'display_data':
      case 'execute_result':
        this.addRich(type, content);
        break;
      case 'update_display_data':
        this.updateDisplay(content);
        break;
      case 'error':
        this.push({
          output_type: 'error',
          ename: String(content.ename ?? 'Error'),
          evalue: String(content.evalue ?? ''),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        });
        break;
      case 'clear_output':
        if (content.wait) this.clearPending = true;
        else this.clear();
        break;
      default:
        return;
    }
  }

  /** Adds an output that did not come from the kernel (e.g. a note that the kernel died). */
  push(output: Output): void {
    this.flushPendingClear();
    this.outputs.push(output);
  }

  private addStream(name: 'stdout' | 'stderr', text: string): void {
    this.flushPendingClear();
    const last = this.outputs[this.outputs.length - 1] as StreamOutput | undefined;
    let target: StreamOutput;
    if (last && last.output_type === 'stream' && last.name === name) {
      target = last;
      const cut = this.cuts.get(target);
      if (cut) {
        cut.tail = appendStreamText(cut.tail, text);
      } else {
        target.text = appendStreamText(target.text, text);
      }
    } else {
      target = { output_type: 'stream', name, text: appendStreamText('', text) };
      this.outputs.push(target as Output);
    }
    this.capStream(target);
  }

  /**
   * Keeps a stream output within the limit: the first half of the limit stays as the head, the
   * newest quarter-to-half as the tail, and a note in between says how much was dropped.
   * Memory stays bounded however much a cell prints.
   */
  private capStream(output: StreamOutput): void {
    let cut = this.cuts.get(output);
    if (!cut) {
      if (output.text.length <= this.streamLimit) return;
      const headLength = Math.floor(this.streamLimit / 2);
      cut = { head: detach(output.text.slice(0, headLength)), tail: output.text.slice(headLength), omitted: 0 };
      this.cuts.set(output, cut);
    }
    const maxTail = Math.floor(this.streamLimit / 2);
    if (cut.tail.length > maxTail) {
      const drop = cut.tail.length - Math.floor(this.streamLimit / 4);
      cut.omitted += drop;
      cut.tail = detach(cut.tail.slice(drop));
    }
    output.text = `${cut.head}\n[... jlab-mcp kept the first and last part of this output; ${cut.omitted} characters in between were not recorded ...]\n${cut.tail}`;
  }

  private addRich(type: 'display_data' | 'execute_result', content: Record<string, unknown>): void {
    const output: Output =
      type === 'execute_result'
        ? {
            output_type: 'execute_result',
            data: (content.data ?? {}) as MimeBundle,
            metadata: (content.metadata ?? {}) as nbformat.OutputMetadata,
            execution_count: typeof content.execution_count === 'number' ? content.execution_count : null,
          }
        : { output_type: 'display_data', data: (content.data ?? {}) as MimeBundle, metadata: (content.metadata ?? {}) as nbformat.OutputMetadata };
    this.push(output);
    const displayId = displayIdOf(content);
    if (displayId) this.displays.set(displayId, [...(this.displays.get(displayId) ?? []), output]);
  }

  private updateDisplay(content: Record<string, unknown>): void {
    const displayId = displayIdOf(content);
    const targets = displayId ? this.displays.get(displayId) : undefined;
    if (!targets) return;
    for (const target of targets) {
      (target as { data: unknown }).data = content.data ?? {};
      (target as { metadata: unknown }).metadata = content.metadata ?? {};
    }
  }

  private flushPendingClear(): void {
    if (this.clearPending) this.clear();
  }

  private clear(): void {
    this.clearPending = false;
    this.outputs = [];
    this.displays.clear();
  }
}

/**
 * A copy of `text` that does not share memory with the string it was sliced from. V8 slices
 * keep their parent alive: 1 MB kept out of a 50 MB message would pin all 50 MB.
 */
function detach(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function displayIdOf(content: Record<string, unknown>): string | undefined {
  const transient = content.transient as { display_id?: unknown } | undefined;
  return typeof transient?.display_id === 'string' ? transient.display_id : undefined;
}

/**
 * Appends a chunk to stream text. `\r` and `\b` only reach back to the start of the current
 * line, so only the last (unfinished) line is re-processed: a long progress loop stays linear.
 */
export function appendStreamText(previous: string, chunk: string): string {
  if (!/[\r\b]/.test(chunk) && !previous.endsWith('\r')) return previous + chunk;
  const lineStart = previous.lastIndexOf('\n') + 1;
  const raw = previous.slice(lineStart) + chunk;
  // A trailing \r means "the next text overwrites this line": keep it so the next chunk can.
  const keepReturn = raw.endsWith('\r') ? '\r' : '';
  return previous.slice(0, lineStart) + applyCarriageReturnsAndBackspaces(raw) + keepReturn;
}
