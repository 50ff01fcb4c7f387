import { createServer, request as httpRequest, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 that adds `Authorization: Bearer <token>` to every request and
 * passes everything else through unchanged — Host and Origin included, bodies and SSE streams
 * streamed. For clients that cannot send a header (the conformance runner 0.1.13), so that they
 * test the real server with its token check on.
 */
export class BearerProxy {
  private server?: Server;
  port = 0;

  constructor(
    private readonly target: URL,
    private readonly token: string,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const upstream = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, authorization: `Bearer ${this.token}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The same path on the proxy's port. */
  url(path = '/mcp'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
