/**
 * The three drivers behind one node-postgres-shaped pool interface:
 * - `neon`: `@neondatabase/serverless` Pool (Postgres over WebSocket; the production default),
 * - `pg`: node-postgres over TCP (RDS, Aurora, a local server),
 * - `pglite`: embedded Postgres in WASM (zero install; one backend shared by all "clients").
 * Each is imported only when chosen, so a Lambda bundle never loads the other two.
 */
import type { DatabaseConfig } from '../config.ts';

import type { DriverPool } from './driver-types.ts';

export type { DriverClient, DriverPool, DriverQueryResult } from './driver-types.ts';

/** Creates the pool for `config.driver`. Connections open lazily, on first `connect()`. */
export async function createDriverPool(config: DatabaseConfig): Promise<DriverPool> {
  switch (config.driver) {
    case 'neon':
      return createNeonPool(config);
    case 'pg':
      return createPgPool(config);
    case 'pglite': {
      const { PglitePool } = await import('./pglite-pool.ts');
      return new PglitePool(config.pgliteDataDir);
    }
  }
}

function poolOptions(config: DatabaseConfig) {
  return {
    connectionString: config.connectionString,
    max: config.maxConnections,
    min: config.minConnections,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    // Client-side: a silently dead socket (a thawed container) fails instead of hanging.
    query_timeout: config.queryTimeoutMs,
    // A CLI or test process may exit while idle connections remain.
    allowExitOnIdle: true,
  };
}

async function createPgPool(config: DatabaseConfig): Promise<DriverPool> {
  const { default: pg } = await import('pg');
  return new pg.Pool(poolOptions(config)) as unknown as DriverPool;
}

async function createNeonPool(config: DatabaseConfig): Promise<DriverPool> {
  const { Pool, neonConfig } = await import('@neondatabase/serverless');
  if (typeof globalThis.WebSocket === 'undefined') {
    const { WebSocket } = await import('ws');
    neonConfig.webSocketConstructor = WebSocket;
  }
  if (config.neonWsProxy) {
    // A plain Postgres behind a local WebSocket-to-TCP bridge: no TLS, and no pipelined
    // login (SCRAM authentication breaks it). Write coalescing only pays off on real networks.
    const proxy = config.neonWsProxy;
    neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    neonConfig.coalesceWrites = false;
  }
  return new Pool(poolOptions(config)) as unknown as DriverPool;
}
