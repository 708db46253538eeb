/**
 * The end of every invocation, for every function: the usage it recorded added to the daily
 * aggregates (one statement, after the work), the pool's new connections and reconnects counted,
 * and the metrics written. A failure to store usage is logged, never the invocation's failure.
 */
import type { Database } from '../db/database.ts';
import { errorFields, type Logger } from '../logger.ts';
import { flushMetrics, metricCount } from './metrics.ts';
import type { UsageRecorder } from './usage.ts';

const seen = new WeakMap<Database, { opened: number; reconnects: number }>();

/** Stores the invocation's usage, counts the pool's new connections, writes the metrics. */
export async function settleInvocation(
  db: Database,
  logger: Logger,
  usage: UsageRecorder,
): Promise<void> {
  await usage
    .flush(db)
    .catch((err: unknown) => logger.warn('could not store usage', errorFields(err)));
  const stats = db.stats();
  const before = seen.get(db) ?? { opened: 0, reconnects: 0 };
  metricCount('DbConnectionsOpened', stats.connectionsOpened - before.opened);
  metricCount('DbReconnects', stats.reconnects - before.reconnects);
  seen.set(db, { opened: stats.connectionsOpened, reconnects: stats.reconnects });
  flushMetrics();
}
