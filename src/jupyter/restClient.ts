import { KernelAPI, KernelSpecAPI, ServerConnection } from '@jupyterlab/services';
import { JlabError, messageOf } from '../util/errors.js';
import { redactSecrets } from '../util/secrets.js';
import { endpointFetch, serverSettings, type ServerEndpoint } from './endpoint.js';
import { isCertificatePinError } from './pinnedTls.js';
import { isRequestTimeout, REQUEST_TIMEOUT_HINT } from './requestDeadline.js';

export interface KernelSpecSummary {
  name: string;
  display_name: string;
  language: string;
}

/**
 * One look at `/api/status`: up, or why not. `words` completes "The Jupyter server at <url> …"
 * in an error message.
 */
export type StatusProbe = { up: true } | { up: false; why: 'timeout' | 'token' | 'http' | 'network' | 'certificate'; words: string };

/** Stateless calls on one Jupyter server. Errors come back as JlabErrors without tokens. */
export class JupyterRestClient {
  readonly settings: ServerConnection.ISettings;

  constructor(readonly endpoint: ServerEndpoint) {
    this.settings = serverSettings(endpoint);
  }

  /** True when `/api/status` answers 200 with this token within `timeoutMs`. */
  async isUp(timeoutMs = 2000): Promise<boolean> {
    return (await this.probeStatus(timeoutMs)).up;
  }

  /**
   * GET `/api/status` with this token, bounded by `timeoutMs` (and `signal`, if given).
   * Never throws except when `signal` aborts.
   */
  async probeStatus(timeoutMs: number, signal?: AbortSignal): Promise<StatusProbe> {
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await endpointFetch(this.endpoint)(new URL('api/status', this.settings.baseUrl), {
        headers: { Authorization: `token ${this.endpoint.token}` },
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      await response.body?.cancel();
      if (response.ok) return { up: true };
      if (response.status === 401 || response.status === 403) {
        return { up: false, why: 'token', words: `does not answer /api/status with the given token (HTTP ${response.status})` };
      }
      return { up: false, why: 'http', words: `answered /api/status with HTTP ${response.status}` };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.aborted) return { up: false, why: 'timeout', words: `did not answer GET /api/status within ${timeoutMs / 1000} s` };
      // Not the pinned certificate: say so in full (possible interception), never as a mere network error.
      if (isCertificatePinError(error)) return { up: false, why: 'certificate', words: `is not the pinned server: ${messageOf(error)}` };
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      return { up: false, why: 'network', words: redactSecrets(`could not be reached (${String(cause?.code ?? cause?.message ?? messageOf(error))})`) };
    }
  }

  async kernelSpecs(): Promise<{ default: string; specs: KernelSpecSummary[] }> {
    const models = await this.call('list kernelspecs', () => KernelSpecAPI.getSpecs(this.settings));
    const specs = Object.values(models.kernelspecs)
      .filter((spec) => spec !== undefined)
      .map((spec) => ({ name: spec.name, display_name: spec.display_name, language: spec.language }));
    return { default: models.default, specs };
  }

  startKernel(name: string | undefined): Promise<KernelAPI.IModel> {
    return this.call('start a kernel', () => KernelAPI.startNew(name ? { name } : {}, this.settings));
  }

  /** The kernel's model, or undefined when the server has no such kernel (404). */
  async kernelModel(id: string): Promise<KernelAPI.IModel | undefined> {
    try {
      return await this.call('look up a kernel', () => KernelAPI.getKernelModel(id, this.settings));
    } catch (error) {
      if (error instanceof JlabError && error.code === 'UNKNOWN_KERNEL') return undefined;
      throw error;
    }
  }

  shutdownKernel(id: string): Promise<void> {
    return this.call('shut down a kernel', () => KernelAPI.shutdownKernel(id, this.settings));
  }

  private async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw toJupyterError(what, error);
    }
  }
}

/**
 * Turns a services ResponseError / NetworkError into a JlabError that names the server's words.
 * A request that ran out of time (JLAB_MCP_REQUEST_TIMEOUT) becomes TIMEOUT.
 */
export function toJupyterError(what: string, error: unknown): JlabError {
  if (isRequestTimeout(error)) {
    return new JlabError('TIMEOUT', redactSecrets(`Could not ${what}: ${messageOf(error)}`), { hint: REQUEST_TIMEOUT_HINT, cause: error });
  }
  if (error instanceof JlabError) return error;
  if (error instanceof ServerConnection.ResponseError) {
    const status = error.response.status;
    const code = status === 404 ? 'UNKNOWN_KERNEL' : 'SERVER_UNAVAILABLE';
    return new JlabError(code, redactSecrets(`Jupyter server refused to ${what} (HTTP ${status}): ${error.message}`), {
      context: { httpStatus: status },
    });
  }
  return new JlabError('SERVER_UNAVAILABLE', redactSecrets(`Could not ${what}: ${messageOf(error)}`), {
    hint: 'The Jupyter server did not answer; the next call will check it again.',
  });
}
