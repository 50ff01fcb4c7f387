import type { Session } from '../sessions/session.js';
import { stripTerminalControls } from '../output/ansi.js';
import { withDeadline } from '../util/deadline.js';
import { fitEntries } from './budget.js';
import { assertKernelFree } from './kernelFree.js';
import { isPythonKernel } from './probe.js';

/** How long the kernel may take to describe its variables, in ms. */
export const INSPECT_TIMEOUT_MS = 20_000;
/** Share of the budget the kernel aims for: the pretty JSON the agent gets is longer than its compact JSON. */
const KERNEL_SHARE = 0.6;

export interface VariablesReport extends Record<string, unknown> {
  session_id: string;
  language: string;
  /** list: every user variable in short; detail: the named ones in depth; inspect_request: a non-Python kernel's own words; unsupported. */
  mode: 'list' | 'detail' | 'inspect_request' | 'unsupported';
  variables: Array<Record<string, unknown>>;
  truncated: boolean;
  omitted?: number;
  note?: string;
}

/**
 * The session kernel's variables without a cell: Python kernels describe them through the
 * silent probe (assets/kernel/python_inspect.py); other kernels answer a named variable through
 * the protocol's inspect_request, and cannot list. Refuses at once while a cell runs. The
 * answer fits `budget` characters.
 */
export async function inspectVariables(session: Session, names: string[] | undefined, budget: number): Promise<VariablesReport> {
  assertKernelFree(session, 'inspect_variables');
  const kernel = session.kernel;
  const language = String(kernel.languageInfo.name ?? kernel.spec.language ?? 'unknown');
  const base = { session_id: session.id, language };
  let report: VariablesReport;
  if (isPythonKernel(kernel)) {
    const answer = await session.supervisor.probes.ask<Record<string, unknown> & { variables: Array<Record<string, unknown>> }>(
      kernel,
      'variables',
      { names: names ?? null, budget: Math.floor(budget * KERNEL_SHARE) },
      INSPECT_TIMEOUT_MS,
    );
    report = { ...base, mode: names?.length ? 'detail' : 'list', ...answer, truncated: false };
    if (!answer.omitted) delete report.omitted;
  } else if (names?.length) {
    report = { ...base, mode: 'inspect_request', variables: await inspectRequests(session, names), truncated: false };
  } else {
    report = {
      ...base,
      mode: 'unsupported',
      variables: [],
      truncated: false,
      note: `Listing variables needs a Python kernel; this ${language} kernel can describe a variable you name (names=["x"]) through the Jupyter protocol's inspect_request, in its own words.`,
    };
  }
  report.truncated = fitEntries(report, report.variables, budget) || Boolean(report.omitted);
  if (report.truncated) {
    report.note = [report.note, `Cut to the output budget (${budget} characters): name variables (names=[…]) to see them in depth.`].filter(Boolean).join(' ');
  }
  return report;
}

/** A non-Python kernel's own description of each name (inspect_request, detail level 0). */
async function inspectRequests(session: Session, names: string[]): Promise<Array<Record<string, unknown>>> {
  const entries: Array<Record<string, unknown>> = [];
  for (const name of names) {
    const reply = await withDeadline(
      session.kernel.connection.requestInspect({ code: name, cursor_pos: name.length, detail_level: 0 }),
      INSPECT_TIMEOUT_MS,
      `The kernel's inspect_request for ${name}`,
    );
    const content = reply.content;
    if (content.status !== 'ok') {
      entries.push({ name, found: false, error: content.status === 'error' ? `${content.ename}: ${content.evalue}` : content.status });
      continue;
    }
    const text = content.data?.['text/plain'];
    entries.push({ name, found: content.found, ...(typeof text === 'string' ? { description: stripTerminalControls(text) } : {}) });
  }
  return entries;
}
