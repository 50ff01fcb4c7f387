import { readFile } from 'node:fs/promises';
import { executeOnKernel, type ExecutionEnd } from '../jupyter/execute.js';
import type { KernelPort } from '../jupyter/kernelPort.js';
import { writeFileAtomic } from '../notebook/atomicWrite.js';
import { parseNotebookText, serializeNotebook } from '../notebook/document.js';
import { OutputCollector } from '../notebook/outputCollector.js';
import type { CodeCell, NotebookContent } from '../notebook/types.js';
import { messageOf } from '../util/errors.js';
import { log } from '../util/log.js';
import { RECORD_HELPER_PYTHON } from './recordHelper.js';
import type { RunStatus } from './runStatus.js';
import type { PlannedRun } from './types.js';

/** A kernel as a run needs it: the session's port plus its language and a silent request. */
export interface RunKernel extends KernelPort {
  readonly languageInfo: Record<string, unknown>;
  evaluateSilently(code: string, userExpressions: Record<string, string>, timeoutMs: number): Promise<Record<string, unknown>>;
}

/** Why a run is stopped from outside: `cancel_sweep`, or jlab-mcp exiting. */
export type StopReason = 'cancelled' | 'exited';

export interface RunEnvironment {
  /** A fresh kernel of `kernelName` (the notebook's; the server default when undefined); rejects with a JlabError. */
  startKernel(kernelName: string | undefined): Promise<RunKernel>;
  cellTimeoutS?: number;
  /** Characters one stream output keeps in the notebook. */
  outputLimit?: number;
  /** How often a running cell's output so far is saved, in ms. */
  saveIntervalMs: number;
  node?: string;
  /** Aborted with a StopReason to stop the run. */
  signal: AbortSignal;
  /** Every change of the run's status (running, the cell reached, the end). */
  onStatus(status: RunStatus): void;
}

/** How long an interrupted cell may take to end before its kernel is shut down anyway, in ms. */
const INTERRUPT_GRACE_MS = 5_000;
const HELPER_TIMEOUT_MS = 30_000;

type CellEnd = ExecutionEnd | { kind: 'timeout' } | { kind: 'stopped'; reason: StopReason };

/**
 * Executes one run's notebook in place, as papermill/nbclient do: a fresh kernel, the record
 * helper (Python) sent silently first, then every non-empty code cell in order, stopping at the
 * first error; the notebook is saved atomically after every cell (and during a long one), so
 * what ran is kept whatever ends the run. The kernel is shut down at the end, always. Never
 * throws: every ending is a status.
 */
export async function executeRun(run: PlannedRun, env: RunEnvironment): Promise<RunStatus> {
  let status: RunStatus = { state: 'running', startedAt: new Date().toISOString(), ...(env.node && { node: env.node }) };
  env.onStatus(status);
  const end = (patch: Partial<RunStatus>): RunStatus => {
    status = { ...status, ...patch, endedAt: new Date().toISOString() };
    env.onStatus(status);
    return status;
  };
  if (env.signal.aborted) return end(stoppedStatus(env.signal.reason as StopReason));
  let content: NotebookContent;
  let kernel: RunKernel | undefined;
  try {
    content = parseNotebookText(await readFile(run.notebookPath, 'utf8'), run.notebookPath);
    const kernelName = content.metadata.kernelspec?.name;
    kernel = await env.startKernel(typeof kernelName === 'string' && kernelName ? kernelName : undefined);
    if (env.signal.aborted) {
      await kernel.shutdown();
      return end(stoppedStatus(env.signal.reason as StopReason));
    }
    status = { ...status, kernelId: kernel.id };
    env.onStatus(status);
    content.metadata.language_info = kernel.languageInfo;
    if (kernel.languageInfo.name === 'python') await kernel.evaluateSilently(RECORD_HELPER_PYTHON, {}, HELPER_TIMEOUT_MS);
  } catch (error) {
    await kernel?.shutdown();
    return end({ state: 'failed', error: firstLine(messageOf(error)) });
  }
  const save = (): Promise<void> =>
    writeFileAtomic(run.notebookPath, serializeNotebook(content)).then(
      () => {},
      (error: unknown) => log.warn(`sweep run ${run.index}: could not save ${run.notebookPath}: ${messageOf(error)}`),
    );
  try {
    for (const [index, cell] of content.cells.entries()) {
      if (cell.cell_type !== 'code' || cell.source.trim() === '') continue;
      status = { ...status, cellReached: index };
      env.onStatus(status);
      const ending = await runCell(kernel, cell, env, save);
      await save();
      const outcome = outcomeOf(ending, cell, index, env.cellTimeoutS);
      if (outcome) return end(outcome);
    }
    return end({ state: 'completed' });
  } finally {
    await kernel.shutdown();
  }
}

async function runCell(kernel: RunKernel, cell: CodeCell, env: RunEnvironment, save: () => Promise<void>): Promise<CellEnd> {
  const collector = new OutputCollector(env.outputLimit);
  const { end } = executeOnKernel(kernel, cell.source, (message) => collector.handle(message));
  const saver = setInterval(() => {
    cell.outputs = collector.outputs;
    void save();
  }, env.saveIntervalMs);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const interrupted = new Promise<CellEnd>((resolve) => {
      if (env.cellTimeoutS !== undefined) timer = setTimeout(() => resolve({ kind: 'timeout' }), env.cellTimeoutS * 1000);
      onAbort = () => resolve({ kind: 'stopped', reason: env.signal.reason as StopReason });
      env.signal.addEventListener('abort', onAbort, { once: true });
    });
    const first = await Promise.race([end, interrupted]);
    if (first.kind === 'timeout' || first.kind === 'stopped') {
      // Interrupt so the cell's outputs end cleanly, then the kernel is shut down by the caller regardless.
      await kernel.interrupt().catch(() => {});
      await Promise.race([end, new Promise((resolve) => setTimeout(resolve, INTERRUPT_GRACE_MS).unref())]);
    } else if ('executionCount' in first && first.executionCount !== null) {
      cell.execution_count = first.executionCount;
    }
    return first;
  } finally {
    clearInterval(saver);
    clearTimeout(timer);
    if (onAbort) env.signal.removeEventListener('abort', onAbort);
    cell.outputs = collector.outputs;
  }
}

/** The run's end after this cell, or undefined to go on with the next. */
function outcomeOf(ending: CellEnd, cell: CodeCell, index: number, cellTimeoutS: number | undefined): Partial<RunStatus> | undefined {
  switch (ending.kind) {
    case 'ok':
      return undefined;
    case 'error': {
      const error = cell.outputs.find((output) => output.output_type === 'error') as { ename?: string; evalue?: string } | undefined;
      return { state: 'failed', error: firstLine(error ? `${error.ename}: ${error.evalue}` : `cell ${index} failed`) };
    }
    case 'aborted':
      return { state: 'failed', error: `cell ${index} was aborted by the kernel` };
    case 'no_reply':
      return { state: 'failed', error: `the kernel could not run cell ${index} (no reply)` };
    case 'lost':
      return { state: 'failed', error: ending.loss === 'died' ? `kernel died in cell ${index}` : `lost the connection to the kernel in cell ${index}` };
    case 'timeout':
      return { state: 'timeout', error: `cell ${index} exceeded ${cellTimeoutS} s` };
    case 'stopped':
      return stoppedStatus(ending.reason);
  }
}

export function stoppedStatus(reason: StopReason): Partial<RunStatus> {
  return reason === 'exited' ? { state: 'failed', error: 'jlab-mcp exited' } : { state: 'cancelled', error: 'cancelled by cancel_sweep' };
}

export function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim().slice(0, 500);
}
