import { messageOf } from '../util/errors.js';
import { displayUrl, redactSecrets } from '../util/secrets.js';
import { isCertificatePinError } from './pinnedTls.js';

/**
 * One look at `/api/status`: up, or why not. `words` completes "The Jupyter server at <url> …"
 * in an error message. Some reasons cannot clear by waiting (`token`, `refused`, `stopped`,
 * `not-jupyter`, `certificate`): a start fails on them at once. `spawnUrl` is where JupyterHub
 * says the stopped server can be started again.
 */
export type StatusProbe =
  | { up: true }
  | {
      up: false;
      why: 'timeout' | 'token' | 'refused' | 'stopped' | 'not-jupyter' | 'http' | 'network' | 'certificate';
      words: string;
      /** For `token`: what showed it (the status answered, or the login page it was sent to). */
      evidence?: string;
      spawnUrl?: string;
    };

/** Redirects followed (same origin only): JupyterHub sends `/user/<name>/…` of a stopped server to `/hub/user/<name>/…`. */
const MAX_REDIRECTS = 5;

/**
 * GET `<baseUrl>api/status` with the token in an Authorization header, bounded by `timeoutMs`
 * (and `signal`). Redirects are followed by hand, on the same origin only, so the token never
 * goes to another host, and so a redirect to a login page reads as what it is: the token was
 * not accepted (a JupyterHub answers a bad token for a stopped server that way; a running
 * single-user server answers 403). Never throws except when `signal` aborts.
 */
export async function probeStatus(doFetch: typeof fetch, baseUrl: string, token: string, timeoutMs: number, signal?: AbortSignal): Promise<StatusProbe> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const headers = { Authorization: `token ${token}`, Accept: 'application/json' };
  let url = new URL('api/status', baseUrl);
  try {
    for (let hop = 0; ; hop++) {
      const response = await doFetch(url, { headers, redirect: 'manual', signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (/\/login\/?$/.test(next.pathname)) return tokenRejected(`GET /api/status was sent to the login page ${next.pathname}`);
        if (next.origin !== url.origin || hop >= MAX_REDIRECTS) {
          return { up: false, why: 'not-jupyter', words: `redirects GET /api/status to ${displayUrl(next.href)} instead of answering it` };
        }
        url = next;
        continue;
      }
      return await classify(response, url, baseUrl);
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (deadline.aborted) return { up: false, why: 'timeout', words: `did not answer GET /api/status within ${timeoutMs / 1000} s` };
    // Not the pinned certificate: say so in full (possible interception), never as a mere network error.
    if (isCertificatePinError(error)) return { up: false, why: 'certificate', words: `is not the pinned server: ${messageOf(error)}` };
    return networkProbe(error, url);
  }
}

/** A final (non-redirect) answer to GET /api/status. */
async function classify(response: Response, url: URL, baseUrl: string): Promise<StatusProbe> {
  const status = response.status;
  const type = response.headers.get('content-type') ?? '';
  const after = url.pathname === new URL('api/status', baseUrl).pathname ? '' : ` (redirected to ${url.pathname})`;
  if (status === 424 || (status === 503 && response.headers.has('x-jupyterhub-version'))) {
    // JupyterHub: this user's server is not running (424; 503 on hubs with the legacy code).
    const message = await hubMessage(response);
    if (message !== undefined) {
      const spawnUrl = /Restart the server at (\S+)/.exec(message)?.[1];
      return { up: false, why: 'stopped', words: `is not running: JupyterHub says "${redactSecrets(message)}"`, spawnUrl };
    }
  }
  // A 424/503 body read above (not the hub's JSON) cannot be cancelled: its stream is locked.
  if (!response.bodyUsed) await response.body?.cancel();
  if (status === 200 && /json/.test(type)) return { up: true };
  if (status === 401 || status === 403) return tokenRejected(`GET /api/status answered HTTP ${status}${after}`);
  if (status === 200 || status === 404) {
    const what = status === 200 ? `a page that is not Jupyter's (${type.split(';')[0] || 'no content type'})` : 'HTTP 404';
    return { up: false, why: 'not-jupyter', words: `answered GET /api/status with ${what}${after}: this URL is not a Jupyter server's base URL` };
  }
  return { up: false, why: 'http', words: `answered GET /api/status with HTTP ${status}${after}` };
}

function tokenRejected(evidence: string): StatusProbe {
  return { up: false, why: 'token', words: `does not accept the token (${evidence})`, evidence };
}

/** JupyterHub's JSON `message` about a server that is not running, if the body has one. */
async function hubMessage(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { message?: unknown };
    return typeof body.message === 'string' ? body.message : undefined;
  } catch {
    return undefined;
  }
}

/** A request that failed below HTTP: nothing listening, no such host, or anything else. */
function networkProbe(error: unknown, url: URL): StatusProbe {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = String(cause?.code ?? '');
  const where = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  if (code === 'ECONNREFUSED') return { up: false, why: 'refused', words: `cannot be reached: nothing listens at ${where} (connection refused)` };
  if (code === 'ENOTFOUND') return { up: false, why: 'refused', words: `cannot be reached: no host named ${url.hostname} is known here (ENOTFOUND)` };
  return { up: false, why: 'network', words: redactSecrets(`could not be reached (${String(cause?.code ?? cause?.message ?? messageOf(error))})`) };
}
