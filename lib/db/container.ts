/**
 * The container-scoped pool. A Lambda container keeps module scope between warm invocations, so
 * the pool created on the first invocation serves every later one; it is never ended per
 * invocation.
 */
import { getConfig } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { Database } from './database.ts';
import { createDriverPool, type DriverPool } from './driver.ts';

let database: Database | undefined;
let shutdownHookInstalled = false;
let authenticationFailed: (() => void) | undefined;

/**
 * Called when the server refuses the container's credentials (SQLSTATE class 28: a wrong password
 * or an unknown role), e.g. after the database secret was rotated (lib/aws/database-secret.ts).
 */
export function onAuthenticationFailure(listener: (() => void) | undefined): void {
  authenticationFailed = listener;
}

/** The driver's pool, reporting refused credentials to {@link onAuthenticationFailure}. */
async function watchedPool(config: Database['config']): Promise<DriverPool> {
  const pool = await createDriverPool(config);
  const connect = pool.connect.bind(pool);
  return Object.assign(pool, {
    async connect() {
      try {
        return await connect();
      } catch (err) {
        if (/^28/.test(String((err as { code?: unknown })?.code ?? ''))) authenticationFailed?.();
        throw err;
      }
    },
  });
}

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
    database = new Database(config.database, logger, watchedPool);
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
