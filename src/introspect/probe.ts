import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KernelHandle } from '../jupyter/kernel.js';
import { JlabError, messageOf } from '../util/errors.js';

/** What assets/kernel/python_inspect.py answers. */
export type ProbeName = 'variables' | 'resources' | 'environment';

/** The asset's text once read: a cache of a file that does not change while we run (not state). */
let source: string | undefined;

/**
 * assets/kernel/python_inspect.py, read once (~20 kB). Synchronously: the request must leave in
 * the same tick as the call, so that the environment probe at session start is on the kernel's
 * FIFO ahead of the first cell.
 */
function inspectSource(): string {
  source ??= readFileSync(fileURLToPath(new URL('../../assets/kernel/python_inspect.py', import.meta.url)), 'utf8');
  return source;
}

/** True for kernels that get the rich (Python) answers. */
export function isPythonKernel(kernel: KernelHandle): boolean {
  return kernel.languageInfo.name === 'python';
}

/**
 * The silent code: the asset executed into a module of its own (`jlab_mcp_inspect`), so that no
 * name lands in the user's namespace. A JSON string is also a valid Python string literal.
 */
function installCode(text: string): string {
  const module = '__import__("sys").modules.setdefault("jlab_mcp_inspect", __import__("types").ModuleType("jlab_mcp_inspect"))';
  return `exec(compile(${JSON.stringify(text)}, "<jlab-mcp inspect>", "exec"), ${module}.__dict__)`;
}

/**
 * Our own silent requests to kernels (introspection, the environment record), counted per kernel
 * while in flight: a kernel busy with one of them is not busy with work.
 */
export class KernelProbes {
  private readonly inFlight = new WeakMap<KernelHandle, number>();

  /** True while one of our own silent requests runs in this kernel (it ends within its deadline). */
  probing(kernel: KernelHandle): boolean {
    return (this.inFlight.get(kernel) ?? 0) > 0;
  }

  /**
   * Asks a Python kernel `what` without touching the notebook, the execution count or the history
   * (a silent execute_request; the answer comes back in the reply's user_expressions), within
   * `timeoutMs`. The caller checks the kernel is free first (the shell channel is FIFO).
   */
  async ask<T>(kernel: KernelHandle, what: ProbeName, args: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const expression = `__import__("sys").modules["jlab_mcp_inspect"].call(${JSON.stringify(what)}, ${JSON.stringify(JSON.stringify(args))})`;
    let answers: Record<string, unknown>;
    const code = installCode(inspectSource());
    this.inFlight.set(kernel, (this.inFlight.get(kernel) ?? 0) + 1);
    try {
      answers = await kernel.evaluateSilently(code, { answer: expression }, timeoutMs);
    } catch (error) {
      if (error instanceof JlabError) throw error;
      throw new JlabError('KERNEL_UNAVAILABLE', `The kernel did not answer (${messageOf(error)}); it may have restarted.`, {
        hint: 'Try again; list_sessions shows the kernel state.',
        cause: error,
      });
    } finally {
      this.inFlight.set(kernel, (this.inFlight.get(kernel) ?? 1) - 1);
    }
    return parseAnswer<T>(answers.answer, what);
  }
}

/** The user_expression's text/plain is one line of JSON: {"ok": …} or {"error": traceback}. */
export function parseAnswer<T>(raw: unknown, what: string): T {
  const expression = raw as { status?: string; data?: Record<string, unknown>; ename?: string; evalue?: string } | undefined;
  if (expression?.status !== 'ok') {
    const why = expression?.ename ? `${expression.ename}: ${expression.evalue ?? ''}` : 'no answer in the reply';
    throw new JlabError('EXECUTION_FAILED', `The kernel could not gather ${what}: ${why}.`, {
      hint: 'This is a bug in jlab-mcp or an unusual kernel; the log on stderr has details.',
    });
  }
  const text = expression.data?.['text/plain'];
  let parsed: { ok?: T; error?: string };
  try {
    parsed = JSON.parse(String(text)) as { ok?: T; error?: string };
  } catch {
    throw new JlabError('EXECUTION_FAILED', `The kernel's answer about ${what} is not JSON: ${String(text).slice(0, 200)}`);
  }
  if (parsed.error !== undefined || parsed.ok === undefined) {
    throw new JlabError('EXECUTION_FAILED', `Gathering ${what} failed inside the kernel:\n${parsed.error ?? '(no detail)'}`, {
      hint: 'This is a bug in jlab-mcp or an unusual object in the kernel; the traceback above says where.',
    });
  }
  return parsed.ok;
}
