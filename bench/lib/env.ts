/**
 * Benchmark databases: fresh databases on a real PostgreSQL + pgvector (BENCH_DATABASE_URL, or
 * TEST_DATABASE_URL, or the local server), reached through the Neon driver and a loopback bridge
 * like production, and through plain `pg` for reference and for the peer libraries.
 */
import { type Config, loadConfig } from '../../lib/config.ts';
import { Database } from '../../lib/db/database.ts';
import { startWsBridge, type WsBridge } from '../../lib/db/ws-bridge.ts';
import { createLogger } from '../../lib/logger.ts';

export const SERVER_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
export const quiet = createLogger('silent');

let bridge: WsBridge | undefined;
let admin: Database | undefined;
const created: string[] = [];

export async function getBridge(): Promise<WsBridge> {
  bridge ??= await startWsBridge();
  return bridge;
}

function adminDb(): Database {
  admin ??= new Database(
    loadConfig({ DATABASE_URL: SERVER_URL, DATABASE_DRIVER: 'pg' }).database,
    quiet,
  );
  return admin;
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** Configuration for this project's code on the Neon driver (or `pg`). */
  config(driver: 'neon' | 'pg', extra?: Record<string, string>): Promise<Config>;
}

/** Drops benchmark databases an interrupted earlier run left behind (not this process's). */
export async function dropLeftovers(): Promise<number> {
  const { rows } = await adminDb().query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'lrs\\_bench\\_%' AND datname NOT LIKE $1",
    [`%\\_${process.pid}\\_%`],
  );
  for (const { datname } of rows)
    await adminDb().query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  return rows.length;
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `lrs_bench_${label}_${process.pid}_${created.length}`;
  await adminDb().query(`DROP DATABASE IF EXISTS ${name}`);
  await adminDb().query(`CREATE DATABASE ${name}`);
  created.push(name);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const db = new Database(
    loadConfig({ DATABASE_URL: url.toString(), DATABASE_DRIVER: 'pg' }).database,
    quiet,
  );
  await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  await db.end();
  return {
    name,
    url: url.toString(),
    async config(driver, extra = {}) {
      const env: Record<string, string> = {
        DATABASE_URL: url.toString(),
        DATABASE_DRIVER: driver,
        LOG_LEVEL: 'silent',
        ...extra,
      };
      if (driver === 'neon') env.NEON_WS_PROXY = (await getBridge()).address;
      return loadConfig(env);
    },
  };
}

export async function cleanup(): Promise<void> {
  for (const name of created)
    await adminDb()
      .query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      .catch(() => undefined);
  await admin?.end();
  await bridge?.close();
}
