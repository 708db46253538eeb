/**
 * The health check: a real database round trip and the schema, never "ok" while the database
 * is gone, plus pool counters and the configuration summary (no secrets).
 */
import { type Config, describeConfig } from './config.ts';
import type { Database, PoolStats } from './db/database.ts';
import { ensureSchema } from './storage/schema.ts';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  database: { reachable: boolean; latencyMs?: number; schemaKey?: string; error?: string };
  pool: PoolStats;
  llm: string;
  config: Record<string, unknown>;
}

export async function checkHealth(db: Database, config: Config): Promise<HealthReport> {
  const llm =
    config.llm.provider === 'none' ? 'none' : `${config.llm.provider}:${config.llm.model}`;
  const started = performance.now();
  const database: HealthReport['database'] = { reachable: false };
  try {
    await db.query('SELECT 1');
    database.latencyMs = Math.round(performance.now() - started);
    database.reachable = true;
    database.schemaKey = (await ensureSchema(db, config.vector)).key;
  } catch (err) {
    database.error = err instanceof Error ? err.message : String(err);
  }
  const ok = database.reachable && database.schemaKey !== undefined;
  return {
    status: ok ? 'ok' : 'unavailable',
    database,
    pool: db.stats(),
    llm,
    config: describeConfig(config),
  };
}
