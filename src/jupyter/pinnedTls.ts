/**
 * TLS pinned to one certificate: the self-signed one a SLURM job makes for its Jupyter server.
 * Trust comes from the SHA-256 fingerprint the job wrote into its 0600 connection file, not from
 * a CA or the host name. The check runs on the handshake's peer certificate *before* the socket
 * is handed to HTTP or the websocket, so on a mismatch not one byte of a request (nor the token
 * in its header) is written. (Node's `rejectUnauthorized: false` + `checkServerIdentity` is not
 * enough: with a self-signed certificate Node never calls `checkServerIdentity`.)
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { JlabError } from '../util/errors.js';
import { log } from '../util/log.js';

/** 32 bytes as upper-case hex pairs joined by colons, the form of Node's `fingerprint256`. */
const CANONICAL_RE = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;

/**
 * A SHA-256 fingerprint in canonical form (`AB:CD:…`, 32 pairs), from any of the usual
 * spellings: Node's `fingerprint256`, `openssl x509 -fingerprint -sha256` output
 * (`sha256 Fingerprint=ab:cd:…`), or 64 bare hex digits. Undefined when it is not one.
 */
export function normalizeFingerprint(text: string | undefined): string | undefined {
  if (typeof text !== 'string') return undefined;
  const value = text
    .trim()
    .replace(/^[^=]*fingerprint\s*=\s*/i, '')
    .toUpperCase();
  const hex = value.replace(/:/g, '');
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  if (value.includes(':') && !CANONICAL_RE.test(value)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** The error of a certificate that is not the pinned one. Its message stands alone (services keep only the message). */
export class CertificatePinError extends JlabError {
  constructor(host: string, port: number, expected: string, got: string | undefined) {
    super(
      'SERVER_UNAVAILABLE',
      `The server at ${host}:${port} presented a TLS certificate with SHA-256 fingerprint ${got ?? '(none)'}, not the pinned ${expected} ` +
        "from the job's connection file: the connection may be intercepted, so it was closed before anything (no token) was sent.",
      {
        hint: 'Do not retry blindly: check who listens on that node and port. If the job was restarted, its new connection file names the new fingerprint; the next start reads it.',
        context: { host, port, expectedFingerprint: expected, presentedFingerprint: got },
      },
    );
    this.name = 'CertificatePinError';
  }
}

/** True for a CertificatePinError, also after @jupyterlab/services re-wrapped it (message only). */
export function isCertificatePinError(error: unknown): boolean {
  return error instanceof CertificatePinError || (error instanceof Error && error.message.includes(', not the pinned '));
}

const warned = new Set<string>();

/**
 * Opens a TLS connection to `host:port` and calls back with it only when the peer's
 * certificate has the `expected` fingerprint; otherwise with a CertificatePinError (the socket
 * destroyed). The handshake must finish within `handshakeTimeoutMs`.
 */
export function connectPinned(
  options: { host: string; port: number; expected: string; handshakeTimeoutMs: number },
  callback: (error: Error | null, socket?: Duplex) => void,
): void {
  const { host, port, expected } = options;
  let settled = false;
  const done = (error: Error | null, socket?: Duplex) => {
    if (settled) return;
    settled = true;
    callback(error, socket);
  };
  // No SNI for an IP address (Node warns and servers ignore it).
  const socket = tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  socket.setTimeout(options.handshakeTimeoutMs, () => {
    socket.destroy();
    done(new Error(`TLS handshake with ${host}:${port} did not finish within ${options.handshakeTimeoutMs / 1000} s`));
  });
  socket.once('error', (error) => done(error));
  socket.once('secureConnect', () => {
    socket.setTimeout(0);
    const got = normalizeFingerprint(socket.getPeerCertificate().fingerprint256);
    if (got === expected) return done(null, socket);
    socket.destroy();
    const error = new CertificatePinError(host, port, expected, got);
    // Once per server and certificate: a start that polls must not repeat it every second.
    const key = `${host}:${port} ${expected} ${got}`;
    if (!warned.has(key)) log.warn(error.message);
    warned.add(key);
    done(error);
  });
}

/** An https.Agent whose every connection is pinned (see connectPinned); idle sockets are kept for reuse. */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly expected: string,
    private readonly handshakeTimeoutMs: number,
  ) {
    // Idle sockets are dropped after 30 s, so none lingers on a server that went away.
    super({ keepAlive: true, timeout: 30_000 });
  }

  // Node's Agent accepts a socket through the callback: the request waits for the pin check.
  override createConnection(options: https.RequestOptions, callback?: (error: Error | null, socket: Duplex) => void): undefined {
    if (!callback) throw new JlabError('INTERNAL', 'PinnedAgent.createConnection needs a callback');
    const host = String(options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
    connectPinned({ host, port: Number(options.port ?? 443), expected: this.expected, handshakeTimeoutMs: this.handshakeTimeoutMs }, (error, socket) =>
      callback(error, socket!),
    );
    return undefined;
  }
}

const agents = new Map<string, PinnedAgent>();

/**
 * The one agent per fingerprint (and handshake deadline, in ms) that REST and websockets to a
 * pinned server share. Throws CONFIG_INVALID when `fingerprint` is not a SHA-256 fingerprint.
 */
export function pinnedAgent(fingerprint: string, handshakeTimeoutMs: number): https.Agent {
  const expected = normalizeFingerprint(fingerprint);
  if (!expected) throw new JlabError('CONFIG_INVALID', `Not a SHA-256 certificate fingerprint: ${JSON.stringify(fingerprint)}`);
  const key = `${expected} ${handshakeTimeoutMs}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new PinnedAgent(expected, handshakeTimeoutMs);
    agents.set(key, agent);
  }
  return agent;
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * A `fetch` over node:https through `agent` (Node's own fetch cannot take an agent): the
 * request body is sent whole (Jupyter's REST bodies are small JSON), the answer is read whole.
 * `init.signal` aborts it.
 */
export function fetchThroughAgent(agent: https.Agent): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(request.url, { method: request.method, headers, agent, signal: request.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const status = res.statusCode ?? 502;
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) out.append(name, one);
          }
          resolve(new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: out }));
        });
      });
      req.once('error', reject);
      req.end(body);
    });
  };
}
