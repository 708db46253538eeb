/**
 * The health check: a real database round trip and the schema, never "ok" while the database
 * is gone. Anyone allowed to call it sees the status and the database latency; the schema key,
 * pool counters, LLM and configuration summary (no secrets, but hosts and workspace names) only
 * when `HEALTH_DETAILS=true`. A database error never reaches the body; it is logged.
 */
import { type Config, describeConfig } from './config.ts';
import type { Database, PoolStats } from './db/database.ts';
import { errorFields, type Logger } from './logger.ts';
import { llmName } from './settings/api.ts';
import { ensureSchema } from './storage/schema.ts';

/** `GET /health`'s answer: the database round trip, and with HEALTH_DETAILS the rest. */
export interface HealthReport {
  status: 'ok' | 'unavailable';
  database: { reachable: boolean; latencyMs?: number; schemaKey?: string };
  /** With HEALTH_DETAILS=true only. */
  pool?: PoolStats;
  llm?: string;
  config?: Record<string, unknown>;
}

export async function checkHealth(
  db: Database,
  config: Config,
  logger?: Logger,
): Promise<HealthReport> {
  const llm = llmName(config.llm);
  const started = performance.now();
  const database: HealthReport['database'] = { reachable: false };
  try {
    await db.query('SELECT 1');
    database.latencyMs = Math.round(performance.now() - started);
    database.reachable = true;
    database.schemaKey = (await ensureSchema(db, config.vector)).key;
  } catch (err) {
    logger?.warn('health check failed', errorFields(err));
  }
  const ok = database.reachable && database.schemaKey !== undefined;
  const status = ok ? 'ok' : 'unavailable';
  if (!config.api.healthDetails) {
    return {
      status,
      database: { reachable: database.reachable, ...(ok ? { latencyMs: database.latencyMs } : {}) },
    };
  }
  return { status, database, pool: db.stats(), llm, config: describeConfig(config) };
}
