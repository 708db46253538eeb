/**
 * Everything the local stack serves listens on loopback only (issue 25 #6): fauxqs binds every
 * interface by itself, so it is started through onLoopback.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { onLoopback, startLoopbackFauxqs } from '../../lib/local/loopback.ts';

const listening = (server: Server, ...args: unknown[]) =>
  new Promise<AddressInfo>((resolve) => {
    (server.listen as (...a: unknown[]) => void)(...args, () =>
      resolve(server.address() as AddressInfo),
    );
  });

describe('servers the local stack starts listen on loopback only', () => {
  it('binds a listen on every interface to 127.0.0.1, in each of listen’s forms', async () => {
    for (const args of [
      [{ port: 0, host: '0.0.0.0' }],
      [{ port: 0 }],
      [0, '0.0.0.0'],
      [0],
      [0, '::'],
    ]) {
      const server = createServer();
      const address = await onLoopback(() => listening(server, ...args));
      assert.equal(address.address, '127.0.0.1', JSON.stringify(args));
      server.close();
    }
  });

  it('leaves listens outside it alone', async () => {
    await onLoopback(async () => undefined);
    const server = createServer();
    const address = await listening(server, 0, '127.0.0.2');
    assert.equal(address.address, '127.0.0.2');
    server.close();
  });

  it('starts fauxqs (SQS and S3) on 127.0.0.1', async () => {
    const server = await startLoopbackFauxqs({ port: 0, logger: false });
    try {
      assert.equal(new URL(server.address).hostname, '127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});
