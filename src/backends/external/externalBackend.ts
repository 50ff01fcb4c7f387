import { JupyterRestClient } from '../../jupyter/restClient.js';
import { normalizeBaseUrl, type ServerEndpoint } from '../../jupyter/endpoint.js';
import { pollUntil } from '../../util/deadline.js';
import { JlabError } from '../../util/errors.js';
import { displayUrl } from '../../util/secrets.js';
import type { JupyterBackend } from '../types.js';

/** A server the user already runs (JupyterLab, a JupyterHub single-user server). Never stopped by us. */
export class ExternalBackend implements JupyterBackend {
  readonly kind = 'external' as const;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly startTimeoutMs: number,
    /** We cannot make someone else's server send without Nagle; the client-side fix stands in. */
    private readonly quickAck = true,
  ) {}

  async start(signal: AbortSignal): Promise<ServerEndpoint> {
    const endpoint: ServerEndpoint = { baseUrl: normalizeBaseUrl(this.url), token: this.token, quickAck: this.quickAck };
    const rest = new JupyterRestClient(endpoint);
    try {
      await pollUntil(async () => ((await rest.isUp()) ? true : undefined), {
        timeoutMs: this.startTimeoutMs,
        what: `Jupyter server at ${displayUrl(this.url)} answering /api/status`,
        signal,
        maxIntervalMs: 2000,
      });
    } catch (error) {
      throw new JlabError('SERVER_START_FAILED', `The Jupyter server at ${displayUrl(this.url)} does not answer /api/status with the given token.`, {
        hint: 'Check that it runs and that JLAB_MCP_JUPYTER_URL / JLAB_MCP_JUPYTER_TOKEN are right; the next call tries again.',
        cause: error,
      });
    }
    return endpoint;
  }

  async stop(): Promise<void> {}

  async checkLost(): Promise<string | undefined> {
    return undefined;
  }

  describe(): Record<string, unknown> {
    return { kind: this.kind, url: displayUrl(this.url) };
  }
}
