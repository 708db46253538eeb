/**
 * A WebSocket-to-TCP bridge, the piece Neon runs in front of its Postgres, so the production
 * driver (`@neondatabase/serverless`) can talk to a plain local Postgres. For development and
 * tests: it listens on loopback and, by default, only forwards to loopback addresses.
 */
import { createConnection, type Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** Where the WebSocket-to-TCP bridge listens and which PostgreSQL it forwards to. */
export interface WsBridgeOptions {
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Hosts the bridge may connect to; anything else is refused. */
  allowedHosts?: readonly string[];
}

/** A running bridge: the address for `NEON_WS_PROXY`, and how to stop it. */
export interface WsBridge {
  /** `host:port` to put in `NEON_WS_PROXY`. */
  readonly address: string;
  readonly port: number;
  /** Connections currently bridged. */
  readonly openConnections: number;
  /** Cuts every bridged connection at once, as a network failure would. */
  cutConnections(): void;
  /**
   * Silently drops every byte of the connections open now, without closing them: a dead
   * network path, as after a frozen container thaws. New connections are forwarded normally.
   */
  blackholeConnections(): void;
  close(): Promise<void>;
}

/**
 * Starts a bridge. The Neon driver connects to `ws://HOST:PORT/v2?address=PGHOST:PGPORT`.
 *
 * @example
 * ```ts
 * const bridge = await startWsBridge({ port: 0 });
 * process.env.NEON_WS_PROXY = bridge.address;
 * ```
 */
export async function startWsBridge(options: WsBridgeOptions = {}): Promise<WsBridge> {
  const allowed = new Set(options.allowedHosts ?? ['127.0.0.1', 'localhost', '::1']);
  const pairs = new Set<{ ws: WebSocket; tcp: Socket; dead: boolean }>();
  const server = new WebSocketServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  server.on('connection', (ws, request) => {
    const target = new URL(request.url ?? '/', 'http://bridge').searchParams.get('address') ?? '';
    const match = /^(.+):(\d{1,5})$/.exec(target);
    if (!match || !allowed.has(match[1]!)) {
      ws.close(1008, 'address not allowed');
      return;
    }
    const tcp = createConnection({ host: match[1]!, port: Number(match[2]) });
    tcp.setNoDelay(true);
    const pair = { ws, tcp, dead: false };
    pairs.add(pair);
    const closeBoth = () => {
      pairs.delete(pair);
      tcp.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
    };
    // Bytes arriving before the TCP connection is up are buffered by the socket.
    ws.on('message', (data: Buffer) => {
      if (!pair.dead) tcp.write(data);
    });
    tcp.on('data', (chunk) => {
      if (!pair.dead) ws.send(chunk);
    });
    ws.on('close', closeBoth);
    ws.on('error', closeBoth);
    tcp.on('close', closeBoth);
    tcp.on('error', closeBoth);
  });

  const port = (server.address() as { port: number }).port;
  return {
    address: `${options.host ?? '127.0.0.1'}:${port}`,
    port,
    get openConnections() {
      return pairs.size;
    },
    cutConnections() {
      for (const { ws, tcp } of [...pairs]) {
        tcp.destroy();
        ws.terminate();
      }
      pairs.clear();
    },
    blackholeConnections() {
      for (const pair of pairs) pair.dead = true;
    },
    close() {
      for (const { ws, tcp } of pairs) {
        tcp.destroy();
        ws.terminate();
      }
      pairs.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
