/**
 * The connection manager: one pool, created on first use, with the safety a Lambda container
 * needs after a freeze/thaw or a database restart (error listeners, timeouts, one retry of
 * idempotent work on connection-class failures) and counters a health check can show.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseConfig } from '../config.ts';
import { DatabaseUnavailableError } from '../errors.ts';
import { errorFields, type Logger } from '../logger.ts';
import { createDriverPool, type DriverClient, type DriverPool } from './driver.ts';

/** The rows of one statement, and how many it touched. */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Anything that runs a parameterised statement: a {@link Database} or a client inside it. */
export interface Queryable {
  query<T = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<T>>;
}

/** How a unit of work on a connection may be retried. */
export interface RunOptions {
  /**
   * Whether the work may run twice. When true (the default: every storage statement is an
   * upsert, a delete or a read), a connection-class failure is retried once on a new connection.
   */
  idempotent?: boolean;
}

/** Options of {@link Database.withTransaction}. */
export interface TransactionOptions extends RunOptions {
  /**
   * Settings for this transaction only (`SET LOCAL`, sent with BEGIN in one round trip; works
   * through Neon's transaction pooler), e.g. `{ 'hnsw.iterative_scan': 'relaxed_order' }`.
   * Names and values are checked against a strict pattern: they cannot be bind parameters.
   */
  settings?: Record<string, string | number>;
}

const SETTING_NAME = /^[a-z_]+(\.[a-z_]+)?$/;
const SETTING_VALUE = /^[A-Za-z0-9_.]+$/;

/** Connection usage, for logs and the health check. */
export interface PoolStats {
  driver: DatabaseConfig['driver'];
  max: number;
  /** Clients in the pool now, idle ones and clients waiting for one. */
  total: number;
  idle: number;
  waiting: number;
  /** Physical connections opened since the pool was created. */
  connectionsOpened: number;
  /** Connections that broke (killed backend, network cut, dead socket after a thaw). */
  connectionsLost: number;
  /** Connections opened to replace a lost one. */
  reconnects: number;
  /** Operations retried after a connection-class failure. */
  retries: number;
  queries: number;
}

const CONNECTION_ERROR_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, server restart
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: server starting up
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);
const CONNECTION_ERROR_MESSAGE =
  /connection terminated|terminating connection|connection timeout|timeout exceeded when trying to connect|query read timeout|socket hang up|websocket|connection error|client was closed|not queryable/i;

/**
 * Whether `err` means the connection (not the statement) failed: SQLSTATE class 08, 57P01-03,
 * socket errors, or the drivers' "Connection terminated" / read-timeout messages.
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || CONNECTION_ERROR_CODES.has(code)))
    return true;
  // A SQLSTATE other than the above is a statement error, whatever its message says.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return false;
  return CONNECTION_ERROR_MESSAGE.test(err.message);
}

/**
 * One pool and the work run on it.
 *
 * @example
 * ```ts
 * const db = new Database(config.database, logger);
 * const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM lightrag_doc_full WHERE workspace = $1', [ws]);
 * await db.withTransaction(async (tx) => { await tx.query(a, p); await tx.query(b, q); });
 * ```
 */
export class Database implements Queryable {
  readonly config: DatabaseConfig;
  readonly #log: Logger;
  readonly #createPool: (config: DatabaseConfig) => Promise<DriverPool>;
  #pool: Promise<DriverPool> | undefined;
  #ended = false;
  #lostSinceLastOpen = 0;
  readonly #counters = {
    connectionsOpened: 0,
    connectionsLost: 0,
    reconnects: 0,
    retries: 0,
    queries: 0,
  };
  #current: DriverPool | undefined;

  constructor(
    config: DatabaseConfig,
    logger: Logger,
    createPool: (config: DatabaseConfig) => Promise<DriverPool> = createDriverPool,
  ) {
    this.config = config;
    this.#log = logger;
    this.#createPool = createPool;
  }

  /** Runs one statement on a pooled connection. */
  query<T = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] = [],
    options: RunOptions = {},
  ): Promise<QueryResult<T>> {
    return this.withClient((client) => client.query<T>(text, params), options);
  }

  /** Runs `fn` with one connection held for its duration, then returns it to the pool. */
  withClient<T>(fn: (client: Queryable) => Promise<T>, options: RunOptions = {}): Promise<T> {
    return this.#withRetry(options.idempotent ?? true, () => this.#runOnce(fn));
  }

  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection; any error rolls back. The statement timeout
   * is applied with `SET LOCAL`, which works through Neon's transaction-mode pooler.
   */
  withTransaction<T>(
    fn: (tx: Queryable) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const timeout = this.config.statementTimeoutMs;
    const settings: Record<string, string | number> = { ...options.settings };
    if (timeout > 0) settings.statement_timeout = Math.trunc(timeout);
    let begin = 'BEGIN';
    for (const [name, value] of Object.entries(settings)) {
      if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(String(value)))
        throw new Error(
          `Refusing unsafe setting ${JSON.stringify(name)} = ${JSON.stringify(value)}`,
        );
      begin += `; SET LOCAL ${name} = '${value}'`;
    }
    return this.withClient(async (client) => {
      await client.query(begin);
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          // The connection is already gone; the server rolled the transaction back itself.
        });
        throw err;
      }
    }, options);
  }

  stats(): PoolStats {
    const pool = this.#current;
    return {
      driver: this.config.driver,
      max: this.config.maxConnections,
      total: pool?.totalCount ?? 0,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      ...this.#counters,
    };
  }

  /**
   * Whether {@link end} was called: a container's runtimes built on this pool build themselves
   * again on the next one (the local stack restarted in one process).
   */
  get ended(): boolean {
    return this.#ended;
  }

  /** Closes every connection, for good: later queries fail. For shutdown only, never per invocation. */
  async end(): Promise<void> {
    this.#ended = true;
    const pool = this.#pool;
    this.#pool = undefined;
    this.#current = undefined;
    if (pool) await (await pool).end();
  }

  #getPool(): Promise<DriverPool> {
    // Ended for good: work still running when its process shut down (an abandoned invocation)
    // must not open a second pool, or a second embedded database on the same folder.
    if (this.#ended) {
      return Promise.reject(
        new DatabaseUnavailableError(
          'This database pool was ended (the process is shutting down).',
        ),
      );
    }
    this.#pool ??= this.#createPool(this.config).then((pool) => {
      // Without an 'error' listener an idle client's disconnect crashes the process.
      pool.on('error', (err: Error) => {
        this.#lost();
        this.#log.warn('idle database connection lost', errorFields(err));
      });
      pool.on('connect', () => {
        this.#counters.connectionsOpened += 1;
        if (this.#lostSinceLastOpen > 0) {
          this.#lostSinceLastOpen -= 1;
          this.#counters.reconnects += 1;
        }
      });
      this.#current = pool;
      return pool;
    });
    return this.#pool;
  }

  async #runOnce<T>(fn: (client: Queryable) => Promise<T>): Promise<T> {
    const pool = await this.#getPool();
    const client = await pool.connect();
    // A checked-out client has no pool listener; an unhandled 'error' would crash the process.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      const result = await fn(this.#wrap(client));
      client.removeListener('error', onError);
      client.release(broken ?? false);
      if (broken) this.#lost();
      return result;
    } catch (err) {
      client.removeListener('error', onError);
      const dead = broken ?? (isConnectionError(err) ? (err as Error) : undefined);
      client.release(dead ?? false);
      if (dead) this.#lost();
      throw err;
    }
  }

  #wrap(client: DriverClient): Queryable {
    return {
      query: async <T>(text: string, params?: readonly unknown[]) => {
        this.#counters.queries += 1;
        const result = await client.query(text, params);
        return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
      },
    };
  }

  async #withRetry<T>(idempotent: boolean, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (first) {
      if (!isConnectionError(first)) throw first;
      if (!idempotent) throw this.#unavailable(first);
      this.#counters.retries += 1;
      this.#log.warn(
        'database connection failed; retrying once on a new connection',
        errorFields(first),
      );
      await sleep(50);
      try {
        return await run();
      } catch (second) {
        throw isConnectionError(second) ? this.#unavailable(second) : second;
      }
    }
  }

  #lost(): void {
    this.#counters.connectionsLost += 1;
    this.#lostSinceLastOpen += 1;
  }

  #unavailable(cause: unknown): DatabaseUnavailableError {
    const reason = describeCause(cause);
    return new DatabaseUnavailableError(
      `The database could not be reached (${reason}). The operation is safe to retry; ` +
        'check that the database is running and DATABASE_URL points at it.',
      { cause },
    );
  }
}

/**
 * A readable reason for a connection failure. The Neon driver rejects a failed WebSocket
 * connect with an `ErrorEvent`, whose `String()` is "[object ErrorEvent]": read its message or
 * wrapped error instead.
 */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (cause && typeof cause === 'object') {
    const event = cause as { message?: unknown; error?: unknown; type?: unknown };
    if (event.error instanceof Error) return event.error.message;
    if (typeof event.message === 'string' && event.message) return event.message;
    if (typeof event.type === 'string') return `WebSocket ${event.type}`;
  }
  return String(cause);
}
