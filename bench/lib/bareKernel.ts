import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KernelAPI, KernelConnection, type ServerConnection } from '@jupyterlab/services';
import { LocalBackend } from '../../src/backends/local/localBackend.js';
import { serverSettings } from '../../src/jupyter/endpoint.js';
import { kernelSetup, pythonSetup } from '../../src/jupyter/kernel.js';
import type { Cleanups } from './cleanup.js';
import { withTimeout } from './timeout.js';

/** A Jupyter server started in the bench process by our LocalBackend (same config as the MCP server's). */
export async function startBareServer(cleanups: Cleanups): Promise<{ settings: ServerConnection.ISettings; stop: () => Promise<void> }> {
  const rootDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-bench-bare-'));
  const backend = new LocalBackend({ rootDir, startTimeoutMs: 60_000 });
  const stop = cleanups.add('bench Jupyter server', async () => {
    await backend.stop();
    await rm(rootDir, { recursive: true, force: true });
  });
  try {
    const endpoint = await withTimeout(backend.start(AbortSignal.timeout(70_000)), 75_000, 'bench Jupyter server start');
    return { settings: serverSettings(endpoint), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface BareStart {
  /** POST /api/kernels until it answered. */
  restMs: number;
  /** Then websocket + kernel_info_reply. */
  firstReplyMs: number;
  totalMs: number;
}

/**
 * The bare baseline of a session start: REST kernel start, a kernel connection, its first
 * reply (kernel_info) — nothing else. The kernel is shut down afterwards (not timed).
 */
export async function bareKernelStart(settings: ServerConnection.ISettings, timeoutMs = 60_000): Promise<BareStart> {
  const t0 = performance.now();
  const model = await withTimeout(KernelAPI.startNew({}, settings), timeoutMs, 'bare KernelAPI.startNew');
  const t1 = performance.now();
  const connection = new KernelConnection({ model, serverSettings: settings, handleComms: false });
  try {
    await withTimeout(connection.info, timeoutMs, 'bare kernel_info');
    const t2 = performance.now();
    return { restMs: t1 - t0, firstReplyMs: t2 - t1, totalMs: t2 - t0 };
  } finally {
    connection.dispose();
    await withTimeout(KernelAPI.shutdownKernel(model.id, settings), 15_000, 'bare kernel shutdown').catch(() => {});
  }
}

/**
 * `1+1` round trips over the kernel websocket straight from this process (no MCP, no notebook):
 * the jupyter-server hop alone, to tell it apart from what the MCP server adds. The kernel first
 * runs jlab-mcp's silent setup (IPython's history in memory among it), so that it is the kernel
 * jlab-mcp talks to. A round trip ends when both execute_reply and idle have arrived.
 */
export async function bareExecuteRoundTrips(settings: ServerConnection.ISettings, n: number, warmup: number, timeoutMs = 30_000): Promise<number[]> {
  const model = await withTimeout(KernelAPI.startNew({}, settings), 60_000, 'bare KernelAPI.startNew');
  const connection = new KernelConnection({ model, serverSettings: settings, handleComms: false });
  try {
    await withTimeout(connection.info, 60_000, 'bare kernel_info');
    // The setup exactly as a session's kernel gets it (no stdin answer, no spool).
    const setup = pythonSetup(await kernelSetup(), undefined, undefined);
    if (setup === undefined) throw new Error('assets/kernel/python_setup.py is missing');
    await withTimeout(connection.requestExecute({ code: setup, silent: true, store_history: false }).done, timeoutMs, 'bare kernel setup');
    const samples: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const t0 = performance.now();
      const future = connection.requestExecute({ code: '1+1', allow_stdin: false, stop_on_error: true, store_history: true });
      const reply = await withTimeout(future.done, timeoutMs, 'bare execute');
      if (reply.content.status !== 'ok') throw new Error(`bare execute: ${reply.content.status}`);
      if (i >= warmup) samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    connection.dispose();
    await withTimeout(KernelAPI.shutdownKernel(model.id, settings), 15_000, 'bare kernel shutdown').catch(() => {});
  }
}
