import net from 'node:net';
import { once } from 'node:events';

/**
 * A TCP proxy on 127.0.0.1 in front of `target`, for cutting connections on purpose: `cut()`
 * destroys every proxied connection (both sides) and keeps accepting new ones; `down()` also
 * stops listening (new connections are refused) until `up()` listens again on the same port.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Connections accepted so far (each proxied connection counts once). */
  accepted = 0;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Starts listening; on the first call on a free port, later on the same one. */
  async up(): Promise<void> {
    const server = net.createServer((client) => this.proxy(client));
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Destroys every proxied connection, both sides, without a clean close. */
  cut(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return count;
  }

  /** Stops listening and cuts every connection: the server looks gone. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    this.cut();
    await closed;
  }

  private proxy(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(socket);
      socket.pipe(other);
      socket.on('error', () => other.destroy());
      // A clean end travels on (pipe ends the other side); a broken socket breaks the other.
      socket.on('close', (hadError) => {
        this.sockets.delete(socket);
        if (hadError) other.destroy();
      });
    }
  }
}
