/**
 * Client-side fix for the Nagle + delayed-ACK stall on Jupyter kernel
 * websockets, for servers we do not configure ourselves.
 *
 * The problem: jupyter-server (tornado) leaves Nagle on for the websocket.
 * tornado turns TCP_NODELAY off again once the HTTP 101 upgrade response is
 * done, and jupyter-server never turns it back on. A kernel execute makes the
 * server send several small frames in a row. The first goes out at once. Each
 * later frame waits in the server's send buffer until the client ACKs the
 * earlier one. The client has nothing to send, so Linux delays that ACK by
 * ~40 ms. A `1+1` round trip therefore takes ~45 ms instead of <10 ms.
 *
 * The fix: once the client has received data, it writes a tiny frame at once,
 * and the ACK rides along with it. That frame is an *unsolicited pong*: an
 * empty, masked pong control frame of 6 bytes. RFC 6455 §5.5.3 allows
 * unsolicited pongs as a one-way heartbeat and says the peer must not reply.
 * So the server sends nothing back, and the pongs cannot set off an endless
 * ping/pong loop. (A ping would: each pong it triggers is new server data that
 * would need its own ACK.) tornado passes a pong to `on_pong`, and
 * jupyter-server only records it as a keep-alive. The `ws` client already
 * sets TCP_NODELAY on its own socket (`socket.setNoDelay()` in
 * `WebSocket#setSocket`), so the pong is not held back on our side.
 *
 * Pongs are batched per event-loop turn: if several messages arrive in one TCP
 * read, one pong covers them.
 *
 * Why not TCP_QUICKACK? It would be the direct fix, but Node's `net.Socket`
 * only exposes setNoDelay and setKeepAlive. There is no generic setsockopt.
 * Setting TCP_QUICKACK would need a native addon. Linux also clears it again
 * after a while, so it would have to be set after every read.
 *
 * Costs: one 6-byte frame (one small TCP segment) per batch of messages from
 * the server. The fix only helps when the client's TCP peer is the Jupyter
 * server itself. Behind a reverse proxy, the stall happens between the proxy
 * and the server, and the client's ACKs do not reach that hop.
 */
import type { WebSocket as WsWebSocket } from 'ws';

const INSTALLED = Symbol.for('jlab-mcp.quickAck.installed');

/** ws.WebSocket.OPEN, kept here so that we do not need the runtime class. */
const OPEN = 1;

/**
 * Make `ws` answer every batch of server messages with an empty unsolicited
 * pong, so the TCP ACK goes out at once instead of after the delayed-ACK
 * timer. Safe to call more than once, and safe on a socket that is still
 * CONNECTING.
 */
export function installQuickAck(ws: WsWebSocket): void {
  const tagged = ws as unknown as Record<symbol, unknown>;
  if (tagged[INSTALLED]) return;
  tagged[INSTALLED] = true;

  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (ws.readyState !== OPEN) return;
    try {
      // Empty payload, masked (the default for clients); errors are ignored.
      ws.pong(undefined, undefined, () => {});
    } catch {
      // Socket is closing or gone: nothing to ACK.
    }
  };

  ws.on('message', () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  });
}
