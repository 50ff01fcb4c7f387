import { createServer } from 'node:net';

/**
 * A port that was free a moment ago on `host`. Another process may take it before the server
 * binds; the server runs with port_retries=0 so that case fails fast and we retry.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
