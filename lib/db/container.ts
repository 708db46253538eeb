/**
 * The container-scoped pool. A Lambda container keeps module scope between warm invocations, so
 * the pool created on the first invocation serves every later one; it is never ended per
 * invocation.
 */
import { getConfig } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { Database } from './database.ts';

let database: Database | undefined;
let shutdownHookInstalled = false;

/**
 * The container's {@link Database}, created on first call from {@link getConfig}.
 *
 * @example
 * ```ts
 * export const handler = async () => {
 *   const db = getDatabase(); // same pool on every warm invocation
 *   return (await db.query('SELECT 1 AS ok')).rows[0];
 * };
 * ```
 */
export function getDatabase(): Database {
  if (!database) {
    const config = getConfig();
    const logger = createLogger(config.logLevel);
    database = new Database(config.database, logger);
    installShutdownHook(logger);
  }
  return database;
}

/** Ends the container's pool (tests and CLI exit paths); the next `getDatabase()` makes a new one. */
export async function closeDatabase(): Promise<void> {
  const current = database;
  database = undefined;
  await current?.end();
}

/**
 * Lambda sends SIGTERM before shutting a container down when an extension is registered: end
 * the pool and log its final counters. Correctness
 * never depends on it. Installed only inside Lambda, where nothing else owns the signal.
 */
function installShutdownHook(logger: Logger): void {
  if (shutdownHookInstalled || !process.env.AWS_LAMBDA_FUNCTION_NAME) return;
  shutdownHookInstalled = true;
  process.once('SIGTERM', () => {
    const stats = database?.stats();
    closeDatabase()
      .catch(() => undefined)
      .finally(() => {
        logger.info('container shutting down; database pool ended', { pool: stats });
        process.exit(0);
      });
  });
}
