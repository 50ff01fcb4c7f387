import { KernelAPI, KernelSpecAPI, ServerConnection } from '@jupyterlab/services';
import { JlabError, messageOf } from '../util/errors.js';
import { redactSecrets } from '../util/secrets.js';
import { serverSettings, type ServerEndpoint } from './endpoint.js';

export interface KernelSpecSummary {
  name: string;
  display_name: string;
  language: string;
}

/** Stateless calls on one Jupyter server. Errors come back as JlabErrors without tokens. */
export class JupyterRestClient {
  readonly settings: ServerConnection.ISettings;

  constructor(readonly endpoint: ServerEndpoint) {
    this.settings = serverSettings(endpoint);
  }

  /** True when `/api/status` answers 200 with this token within `timeoutMs`. */
  async isUp(timeoutMs = 2000): Promise<boolean> {
    try {
      const response = await fetch(new URL('api/status', this.settings.baseUrl), {
        headers: { Authorization: `token ${this.endpoint.token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
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

/** Turns a services ResponseError / NetworkError into a JlabError that names the server's words. */
export function toJupyterError(what: string, error: unknown): JlabError {
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
