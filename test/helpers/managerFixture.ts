// A SessionManager on scripted fake kernels: a fake kernel starter, a server backend that "starts"
// at once and can be lost on cue, and a Jupyter REST stub that answers only what the manager asks
// of a server itself (the kernelspecs, for an unknown kernel name). Notebooks and the session
// registry are real files in a temp dir removed after the test.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { JupyterBackend } from '../../src/backends/types.js';
import type { ServerEndpoint } from '../../src/jupyter/endpoint.js';
import { flushPendingFsyncs } from '../../src/notebook/atomicWrite.js';
import type { KernelStarter } from '../../src/sessions/kernelStarter.js';
import { RegistrySync } from '../../src/sessions/registrySync.js';
import { ServerPool } from '../../src/sessions/serverPool.js';
import { SessionManager, type SessionManagerOptions } from '../../src/sessions/sessionManager.js';
import type { Session } from '../../src/sessions/session.js';
import { SessionRegistry } from '../../src/state/registry.js';
import { JlabError } from '../../src/util/errors.js';
import { FakeKernel } from './fakeKernel.js';
import { idleBackend, TEST_SESSION_OPTIONS } from './sessionFixture.js';

/** Kernels as a Jupyter server would start and keep them, scripted; records what it was asked. */
export class FakeKernelStarter implements KernelStarter<FakeKernel> {
  /** Every kernel started, in order. */
  readonly started: FakeKernel[] = [];
  /** The kernels the server has, by id: what adopt() finds. */
  readonly onServer = new Map<string, FakeKernel>();
  /** Each environment record asked for: the session, its kernel then, and whether it was a new kernel of an old session. */
  readonly environments: Array<{ sessionId: string; kernelId: string; again: boolean }> = [];
  /** Kernelspecs the server has; a start of another name fails as the server's 404 does. */
  kernelNames = ['python3'];
  /** Scripts each new kernel before the manager gets it. */
  prepare: (kernel: FakeKernel) => void = () => {};
  /** While set, a start waits for it (to hold a start call half-way). */
  hold?: Promise<void>;
  private readonly startListeners: Array<() => void> = [];

  async start(_rest: unknown, name: string | undefined): Promise<FakeKernel> {
    for (const listener of this.startListeners.splice(0)) listener();
    await this.hold;
    const kernelName = name ?? this.kernelNames[0]!;
    if (!this.kernelNames.includes(kernelName)) {
      throw new JlabError('KERNEL_START_FAILED', `Could not start a kernel: No such kernel named ${kernelName}`, {
        hint: 'Check the kernel with list_kernels.',
      });
    }
    const kernel = new FakeKernel({ spec: { name: kernelName, display_name: `${kernelName} (fake)`, language: 'python' } });
    this.prepare(kernel);
    this.started.push(kernel);
    this.onServer.set(kernel.id, kernel);
    return kernel;
  }

  async adopt(_rest: unknown, kernelId: string): Promise<FakeKernel | undefined> {
    return this.onServer.get(kernelId);
  }

  recordEnvironment(session: Session<FakeKernel>, _provenance: unknown, options: { again?: boolean }): void {
    this.environments.push({ sessionId: session.id, kernelId: session.kernel.id, again: options.again === true });
  }

  /** Resolves when the next start call arrives (before it is held). */
  nextStart(): Promise<void> {
    return new Promise((resolve) => this.startListeners.push(resolve));
  }
}

/** An HTTP server answering GET /api/kernelspecs with `names`, and 404 to anything else. */
async function kernelspecsStub(names: () => string[]): Promise<{ endpoint: ServerEndpoint; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/api/kernelspecs')) {
      response.writeHead(404).end();
      return;
    }
    const spec = (name: string) => ({ name, resources: {}, spec: { language: 'python', display_name: name, argv: [] } });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ default: names()[0], kernelspecs: Object.fromEntries(names().map((name) => [name, spec(name)])) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: { baseUrl: `http://127.0.0.1:${port}/`, token: 'unit-test-token' },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A server backend whose server is up at once and can be lost on cue. */
export interface FakeServer {
  backend: JupyterBackend;
  /** The server goes away and the backend notices on its own (a job's end): its watcher is told. */
  lose(reason: string): void;
  /** The backend's next checkLost() answers this (a job gone, seen by squeue). */
  lostReason?: string;
  /** How many times the backend was asked whether the server is lost. */
  lostChecks: number;
}

function fakeServer(endpoint: ServerEndpoint): FakeServer {
  const watchers: Array<(reason: string) => void> = [];
  const server: FakeServer = {
    lostChecks: 0,
    lose: (reason) => {
      for (const watcher of watchers) watcher(reason);
    },
    backend: {
      ...idleBackend(),
      start: async () => endpoint,
      checkLost: async () => {
        server.lostChecks++;
        return server.lostReason;
      },
      watch: (listener) => watchers.push(listener),
    },
  };
  return server;
}

export interface ManagerFixture {
  manager: SessionManager<FakeKernel>;
  kernels: FakeKernelStarter;
  /** The default profile's server. */
  server: FakeServer;
  /** The server of `profile` (created on first use, as the pool does). */
  serverOf(profile: string): FakeServer;
  /** Where notebooks go (the manager's notebook dir). */
  dir: string;
  /** The session registry the manager writes, when asked for one. */
  registry?: SessionRegistry;
}

/** A manager on fake kernels and a fake server, its notebooks in a temp dir; every session is shut down after the test. */
export async function managerOnFakeKernels(
  t: TestContext,
  options: { registry?: boolean; profiles?: string[]; manager?: Partial<SessionManagerOptions<FakeKernel>> } = {},
): Promise<ManagerFixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'jlab-mcp-manager-'));
  const dir = path.join(root, 'notebooks');
  const kernels = new FakeKernelStarter();
  const stub = await kernelspecsStub(() => kernels.kernelNames);
  const servers = new Map<string, FakeServer>();
  const serverOf = (profile: string) => {
    const server = servers.get(profile) ?? fakeServer(stub.endpoint);
    servers.set(profile, server);
    return server;
  };
  const pool = new ServerPool({ profiles: options.profiles ?? [], defaultProfile: 'default', create: (profile) => serverOf(profile).backend }, 'unit test');
  const manager = new SessionManager(pool, {
    notebookDir: dir,
    kernelStartTimeoutMs: 1000,
    session: TEST_SESSION_OPTIONS,
    kernels,
    ...options.manager,
  });
  const registry = options.registry ? await SessionRegistry.open(path.join(root, 'state')) : undefined;
  if (registry) manager.useRegistry(new RegistrySync(registry));
  t.after(async () => {
    await manager.shutdownAll();
    await registry?.flush(true);
    await flushPendingFsyncs(); // a deferred fsync of a file removed below would log a warning
    await stub.close();
    await rm(root, { recursive: true, force: true });
  });
  return { manager, kernels, server: serverOf('default'), serverOf, dir, registry };
}
