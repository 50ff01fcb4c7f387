// A Session on a scripted fake kernel, with the real NotebookDocument writing to a temp dir and a
// real ServerSupervisor over a backend that never starts anything (the session only holds it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { JupyterBackend } from '../../src/backends/types.js';
import { flushPendingFsyncs } from '../../src/notebook/atomicWrite.js';
import { NotebookDocument } from '../../src/notebook/document.js';
import type { NotebookContent } from '../../src/notebook/types.js';
import { ServerSupervisor } from '../../src/sessions/serverSupervisor.js';
import { Session, type SessionOptions } from '../../src/sessions/session.js';
import { FakeKernel } from './fakeKernel.js';
import { readNotebook } from './notebookFile.js';

/** A backend for sessions that never reach a server: starting one is a test bug. */
export function idleBackend(): JupyterBackend {
  return {
    kind: 'local',
    start: async () => {
      throw new Error('unit tests start no Jupyter server');
    },
    stop: async () => {},
    checkLost: async () => undefined,
    describe: () => ({ kind: 'local', adopted: false, summary: 'a fake backend for unit tests' }),
  };
}

/** Fast settings for tests: a short interrupt grace, saves soon after output. */
export const TEST_SESSION_OPTIONS: Partial<SessionOptions> = { interruptGraceMs: 100, saveIntervalMs: 20 };

export interface SessionFixture {
  session: Session<FakeKernel>;
  kernel: FakeKernel;
  notebook: NotebookDocument;
  dir: string;
  /** The notebook as it is on disk now. */
  readBack(): Promise<NotebookContent>;
}

/** A session named "s1" on a fresh fake kernel and a new notebook in a temp dir removed after the test. */
export async function sessionOnFakeKernel(
  t: TestContext,
  options: { session?: Partial<SessionOptions>; kernel?: FakeKernel; notebook?: (path: string) => Promise<NotebookDocument> } = {},
): Promise<SessionFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'jlab-mcp-unit-'));
  const kernel = options.kernel ?? new FakeKernel();
  const file = path.join(dir, 'experiment.ipynb');
  const notebook = options.notebook
    ? await options.notebook(file)
    : NotebookDocument.create(file, { name: 'python3', display_name: 'Python 3', language: 'python' });
  await notebook.save();
  const session = new Session('s1', 'experiment', kernel, notebook, new ServerSupervisor(idleBackend(), 'unit test'), {
    ...TEST_SESSION_OPTIONS,
    ...options.session,
  });
  t.after(async () => {
    await notebook.flush().catch(() => {});
    await flushPendingFsyncs(); // a deferred fsync of a file removed below would log a warning
    await rm(dir, { recursive: true, force: true });
  });
  return {
    session,
    kernel,
    notebook,
    dir,
    readBack: () => readNotebook<NotebookContent>(file),
  };
}

/** A notebook file with these code cells (no outputs), loaded as the session would load it. */
export function notebookWithCode(...sources: string[]): (file: string) => Promise<NotebookDocument> {
  return async (file) => {
    const notebook = NotebookDocument.create(file, { name: 'python3', display_name: 'Python 3', language: 'python' });
    for (const source of sources) notebook.insert(notebook.newCodeCell(source), notebook.cells.length);
    await notebook.save();
    return NotebookDocument.load(file);
  };
}
