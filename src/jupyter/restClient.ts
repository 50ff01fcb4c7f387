import { KernelAPI, KernelSpecAPI, ServerConnection } from '@jupyterlab/services';
import { JlabError, messageOf } from '../util/errors.js';
import { redactSecrets } from '../util/secrets.js';
import { endpointFetch, serverSettings, type ServerEndpoint } from './endpoint.js';
import { isRequestTimeout, KERNEL_START_SETTING, requestTimeoutSetting, timeoutHint } from './requestDeadline.js';
import { probeStatus, type StatusProbe } from './statusProbe.js';

export interface KernelSpecSummary {
  name: string;
  display_name: string;
  language: string;
}

export type { StatusProbe } from './statusProbe.js';

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
   * GET `/api/status` with this token, bounded by `timeoutMs` (and `signal`, if given); says why
   * not when it is not up (statusProbe.ts). Never throws except when `signal` aborts.
   */
  probeStatus(timeoutMs: number, signal?: AbortSignal): Promise<StatusProbe> {
    return probeStatus(endpointFetch(this.endpoint), this.settings.baseUrl, this.endpoint.token, timeoutMs, signal);
  }

  async kernelSpecs(): Promise<{ default: string; specs: KernelSpecSummary[] }> {
    const models = await this.call('list kernelspecs', () => KernelSpecAPI.getSpecs(this.settings));
    const specs = Object.values(models.kernelspecs)
      .filter((spec) => spec !== undefined)
      .map((spec) => ({ name: spec.name, display_name: spec.display_name, language: spec.language }));
    return { default: models.default, specs };
  }

  /**
   * POST /api/kernels. Jupyter answers it only once the kernel process runs, which on a loaded
   * node takes far longer than a REST call: `timeoutMs` (JLAB_MCP_KERNEL_START_TIMEOUT) bounds it
   * instead of the request timeout.
   */
  startKernel(name: string | undefined, timeoutMs?: number): Promise<KernelAPI.IModel> {
    // `path` is in Jupyter's REST API (the kernel's working directory) though not in the library's type.
    const path = this.endpoint.kernelPath;
    const options = { ...(name ? { name } : {}), ...(path === undefined ? {} : { path }) } as KernelAPI.IKernelOptions;
    const settings = timeoutMs === undefined ? this.settings : serverSettings(this.endpoint, { timeoutMs, setting: KERNEL_START_SETTING });
    return this.call('start a kernel', () => KernelAPI.startNew(options, settings));
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

/** The next step when a server does not take our token (JupyterHub tokens expire, too). */
export const TOKEN_HINT =
  'Check JLAB_MCP_JUPYTER_TOKEN / JLAB_MCP_JUPYTER_TOKEN_FILE (on JupyterHub, make a new token at https://<hub>/hub/token), then restart jlab-mcp: it reads the token when it starts.';

/**
 * Turns a services ResponseError / NetworkError into a JlabError that names the server's words.
 * A request that ran out of time (JLAB_MCP_REQUEST_TIMEOUT) becomes TIMEOUT.
 */
export function toJupyterError(what: string, error: unknown): JlabError {
  if (isRequestTimeout(error)) {
    const hint = timeoutHint(requestTimeoutSetting(error) ?? 'JLAB_MCP_REQUEST_TIMEOUT');
    return new JlabError('TIMEOUT', redactSecrets(`Could not ${what}: ${messageOf(error)}`), { hint, cause: error });
  }
  if (error instanceof JlabError) return error;
  if (error instanceof ServerConnection.ResponseError) {
    const status = error.response.status;
    if (status === 401 || status === 403) {
      return new JlabError('JUPYTER_TOKEN_REJECTED', redactSecrets(`Jupyter server refused to ${what} (HTTP ${status}): the token was not accepted.`), {
        hint: TOKEN_HINT,
        context: { httpStatus: status },
      });
    }
    const code = status === 404 ? 'UNKNOWN_KERNEL' : 'SERVER_UNAVAILABLE';
    return new JlabError(code, redactSecrets(`Jupyter server refused to ${what} (HTTP ${status}): ${error.message}`), {
      context: { httpStatus: status },
    });
  }
  return new JlabError('SERVER_UNAVAILABLE', redactSecrets(`Could not ${what}: ${messageOf(error)}`), {
    hint: 'The Jupyter server did not answer; the next call will check it again.',
  });
}
