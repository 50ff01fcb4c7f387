import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { messageOf } from '../../util/errors.js';
import { log } from '../../util/log.js';

/** A web-standard handler, the shape of the SDK's streamable HTTP transport. */
export type FetchHandler = (request: Request) => Promise<Response>;

/**
 * node:http in front of a web-standard handler (what `toNodeHandler` of
 * `@modelcontextprotocol/node` does, without its hono dependency): the body is streamed, not
 * buffered, so the handler refuses a request before reading it and the transport's own size
 * limit applies; the response is streamed with backpressure, and a client that goes away
 * cancels it (an SSE stream stops at once).
 */
export function nodeListener(handler: FetchHandler): RequestListener {
  return (req, res) => {
    void serve(handler, req, res).catch((error: unknown) => {
      log.warn(`HTTP ${req.method} ${req.url}: ${messageOf(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end();
    });
  };
}

async function serve(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const response = await handler(toRequest(req, gone.signal));
  const headers = new Headers(response.headers);
  // A body the handler did not read (refused, too large) would desync a kept-alive connection.
  if (!req.complete) headers.set('connection', 'close');
  res.writeHead(response.status, Object.fromEntries(headers));
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  gone.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
  for (;;) {
    const { done, value } = await reader.read();
    if (done || gone.signal.aborted) break;
    if (!res.write(value)) await drained(res, gone.signal);
  }
  res.end();
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // The URL's host is not the Host header (that is checked from the headers); a fixed base
  // keeps a hostile Host from making the URL unparsable.
  const url = new URL(req.url ?? '/', 'http://localhost');
  return new Request(url, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
