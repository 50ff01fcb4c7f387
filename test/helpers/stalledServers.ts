import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';

/** A listening server on 127.0.0.1 and how to get rid of it (every socket destroyed). */
export interface Listening {
  port: number;
  url: string;
  close(): Promise<void>;
}

function listen(server: net.Server, sockets: Set<net.Socket>): Promise<Listening> {
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Accepts TCP connections and never writes a byte: a hung server, a wrong port, a dead proxy. */
export function stalledTcpServer(): Promise<Listening> {
  return listen(net.createServer(), new Set());
}

/**
 * Which request a fake Jupyter server leaves unanswered:
 * - `start`: POST /api/kernels
 * - `spec-body`: GET /api/kernelspecs sends its headers and half the body, then nothing
 * - `upgrade`: the websocket upgrade is accepted at the TCP level and never answered
 * - `kernel-info`: the websocket opens, the kernel never says a word (not even kernel_info_reply)
 * - `control`: POST /api/kernels/<id>/interrupt and /restart (and the websocket upgrade, so that no
 *   kernel_info request is pending when a restart cancels it: the library leaves that rejection unhandled)
 */
export type Stall = 'start' | 'spec-body' | 'upgrade' | 'kernel-info' | 'control';

export interface FakeJupyter extends Listening {
  /** "METHOD /path" of every request, in order (query strings dropped). */
  requests: string[];
  /** Ids of kernels that got DELETE /api/kernels/<id>. */
  deleted: string[];
}

const SPECS = {
  default: 'python3',
  kernelspecs: {
    python3: {
      name: 'python3',
      resources: {},
      spec: { display_name: 'Python 3', language: 'python', argv: ['python3'], env: {}, metadata: {}, interrupt_mode: 'signal' },
    },
  },
};

/**
 * Just enough of the Jupyter REST API for a client to get to a kernel, checking the token, with
 * one request left unanswered (`stall`). A real HTTP server, not a mock of the client.
 */
export async function fakeJupyter(token: string, stall: Stall): Promise<FakeJupyter> {
  const requests: string[] = [];
  const deleted: string[] = [];
  const kernels = new Map<string, Record<string, unknown>>();
  const send = (response: http.ServerResponse, status: number, body?: unknown) => {
    response.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const route = `${request.method} ${path}`;
    requests.push(route);
    if (request.headers.authorization !== `token ${token}`) return send(response, 403, { message: 'Forbidden' });
    const kernelId = /^\/api\/kernels\/([^/]+)/.exec(path)?.[1];
    if (route === 'GET /api/status')
      return send(response, 200, { started: new Date().toISOString(), last_activity: new Date().toISOString(), connections: 0, kernels: kernels.size });
    if (route === 'GET /api/kernelspecs') {
      if (stall !== 'spec-body') return send(response, 200, SPECS);
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '4096' });
      response.write(JSON.stringify(SPECS).slice(0, 40));
      return;
    }
    if (route === 'POST /api/kernels') {
      if (stall === 'start') return;
      const model = { id: randomUUID(), name: 'python3', last_activity: new Date().toISOString(), execution_state: 'starting', connections: 0 };
      kernels.set(model.id, model);
      return send(response, 201, model);
    }
    if (kernelId && kernels.has(kernelId)) {
      if (request.method === 'GET' && path === `/api/kernels/${kernelId}`) return send(response, 200, kernels.get(kernelId));
      if (request.method === 'DELETE') {
        kernels.delete(kernelId);
        deleted.push(kernelId);
        return send(response, 204);
      }
      if (stall === 'control' && /\/(interrupt|restart)$/.test(path)) return;
    }
    send(response, 404, { message: 'Not found' });
  });
  // The upgrade is either left hanging (accepted at TCP level only) or completed by a silent kernel.
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    requests.push(`UPGRADE ${new URL(request.url ?? '/', 'http://x').pathname}`);
    if (stall === 'upgrade' || stall === 'control') return;
    wss.handleUpgrade(request, socket, head, (ws) => ws.on('error', () => {}));
  });
  const sockets = new Set<net.Socket>();
  const listening = await listen(server, sockets);
  return {
    ...listening,
    requests,
    deleted,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await listening.close();
    },
  };
}
