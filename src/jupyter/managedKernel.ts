import type { Kernel } from '@jupyterlab/services';
import type { KernelSpecInfo } from '../notebook/types.js';
import type { KernelPort } from './kernelPort.js';

/**
 * A kernel as the session manager holds it: what its session needs ({@link KernelPort}) and what
 * the manager itself reads — the spec and language for the notebook's metadata, the spool file,
 * the websocket's reconnects. `KernelHandle` is the real one; the unit tests use the scripted
 * fake (test/helpers/fakeKernel.ts).
 */
export interface ManagedKernel extends KernelPort {
  /** The kernelspec it was started from, as the notebook's metadata records it. */
  readonly spec: KernelSpecInfo;
  /** The kernel's language_info (from kernel_info_reply, or the notebook's for an adopted kernel). */
  readonly languageInfo: Record<string, unknown>;
  /** The websocket's state: 'connecting' while it tries to reconnect. */
  readonly connectionStatus: Kernel.ConnectionStatus;
  /** Disposed once the kernel was shut down or abandoned: nothing reconnects it any more. */
  readonly connection: { readonly isDisposed: boolean };
  /** Makes the kernel spool each cell's messages to `path`, when it can (Python). */
  setSpoolPath(path: string): void;
  /** Subscribes to the websocket dropping and trying to reconnect (a blip, or the server gone). */
  onReconnecting(listener: () => void): void;
}
