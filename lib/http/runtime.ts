/**
 * What every API function keeps in its container between invocations, built on first use: the
 * configuration, the pool and the logger. Each function adds only what its routes use
 * (lib/http/query-runtime.ts, lib/http/documents-runtime.ts), so the health function's bundle
 * carries no query engine, pipeline or queue client.
 */
import { type Config, getConfig } from '../config.ts';
import { getDatabase } from '../db/container.ts';
import type { Database } from '../db/database.ts';
import { createLogger, type Logger } from '../logger.ts';

export interface ApiBase {
  config: Config;
  db: Database;
  logger: Logger;
}

let base: ApiBase | undefined;

export function getApiBase(): ApiBase {
  if (!base || base.db.ended) {
    const config = getConfig();
    base = { config, db: getDatabase(), logger: createLogger(config.logLevel) };
  }
  return base;
}

/** The configured logger even when the configuration itself is what failed. */
export function apiLogger(): Logger {
  try {
    return getApiBase().logger;
  } catch {
    return createLogger('info');
  }
}
