/**
 * Test databases on real parts. With TEST_DATABASE_URL set (CI: the local PostgreSQL 15 +
 * pgvector), each call creates a fresh database on that server and reaches it through the
 * production Neon driver via a WebSocket-to-TCP bridge on loopback (TEST_DATABASE_DRIVER=pg uses
 * plain TCP instead). Without it, each call starts an embedded PGlite, so `npm test` passes on a
 * machine with nothing but Node installed.
 */
import { after } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import { Database } from '../../lib/db/database.ts';
import { startWsBridge, type WsBridge } from '../../lib/db/ws-bridge.ts';
import { createLogger } from '../../lib/logger.ts';

export const SERVER_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;
export const ON_SERVER = SERVER_URL !== undefined;
export const TARGET = ON_SERVER
  ? `postgres (${process.env.TEST_DATABASE_DRIVER ?? 'neon'} driver)`
  : 'pglite';
/** Reason to skip running the zips as deployed: they carry only the Neon driver, so only that pass can. */
export const ZIPS_SKIP =
  (process.env.TEST_DATABASE_DRIVER ?? 'neon') !== 'neon' || !ON_SERVER
    ? 'the bundles carry only the Neon driver (PGlite and pg are excluded by design)'
    : false;
/** Reason to skip a test that needs a real server (several backends, pg_terminate_backend). */
export const NEEDS_SERVER = ON_SERVER ? false : 'needs a PostgreSQL server (set TEST_DATABASE_URL)';

export const quietLogger = createLogger('silent');

let bridge: Promise<WsBridge> | undefined;
let admin: Database | undefined;
let counter = 0;
const cleanups: Array<() => Promise<void>> = [];

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await admin?.end();
  if (bridge) await (await bridge).close();
});

/** A plain-TCP connection to the server's maintenance database, for setup and fault injection. */
export function adminDatabase(): Database {
  if (!SERVER_URL) throw new Error('adminDatabase() needs TEST_DATABASE_URL');
  admin ??= new Database(
    loadConfig({ DATABASE_URL: SERVER_URL, DATABASE_DRIVER: 'pg' }).database,
    quietLogger,
  );
  return admin;
}

export interface TestDatabase {
  /** Environment that `loadConfig` turns into {@link config}; extra variables merged in. */
  env: Record<string, string>;
  config: Config;
  /** A new Database (pool) on the same target; call as often as containers are needed. */
  open(): Database;
  /** Database name on the server (undefined on PGlite). */
  name?: string;
}

/**
 * A fresh, empty database. On PGlite every `open()` shares the one embedded instance, since
 * PGlite cannot be opened twice; on a server each `open()` is a separate pool, like a container.
 */
export async function createTestDatabase(
  extraEnv: Record<string, string> = {},
): Promise<TestDatabase> {
  const base = { LOG_LEVEL: 'silent', EMBEDDING_DIM: '32', ...extraEnv };
  if (!SERVER_URL) {
    const env = { ...base, DATABASE_DRIVER: 'pglite' };
    const config = loadConfig(env);
    const shared = new Database(config.database, quietLogger);
    cleanups.push(() => shared.end());
    return { env, config, open: () => shared };
  }
  const name = `lrs_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await adminDatabase().query(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const driver = process.env.TEST_DATABASE_DRIVER ?? 'neon';
  const env: Record<string, string> = {
    ...base,
    DATABASE_URL: url.toString(),
    DATABASE_DRIVER: driver,
  };
  if (driver === 'neon') {
    bridge ??= startWsBridge();
    env.NEON_WS_PROXY = (await bridge).address;
  }
  const config = loadConfig(env);
  const pools: Database[] = [];
  cleanups.push(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await adminDatabase().query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return {
    env,
    config,
    name,
    open: () => {
      const db = new Database(config.database, quietLogger);
      pools.push(db);
      return db;
    },
  };
}

/** A workspace name unique to this process and call, for isolation inside a shared database. */
export function uniqueWorkspace(prefix = 'ws'): string {
  return `${prefix}_${process.pid}_${counter++}`;
}
