import { parseArgs } from 'node:util';
import { startWsBridge } from '../db/ws-bridge.ts';
import type { CliIo } from './context.ts';

/** `bridge [--port N]`: a WebSocket-to-TCP bridge on loopback until Ctrl-C. */
export async function bridgeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { port: { type: 'string', default: '8080' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`--port must be a port number, got ${JSON.stringify(values.port)}.`);
    return 2;
  }
  const running = await startWsBridge({ port });
  io.out(
    `WebSocket-to-TCP bridge on ${running.address}; set NEON_WS_PROXY=${running.address}. Ctrl-C stops it.`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  return 0;
}
