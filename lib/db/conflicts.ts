/**
 * Transactions that many containers run against the same rows (graph merges, deletions) can
 * still meet a deadlock or a serialization failure, e.g. when a LightRAG deployment writes the
 * same tables without our lock order. Postgres rolls such a transaction back whole, so running it
 * again is safe.
 */
import type { Logger } from '../logger.ts';
import type { Database, Queryable } from './database.ts';

/** SQLSTATEs of a transaction that lost a conflict and may simply be run again. */
const CONFLICT_CODES = new Set(['40P01', '40001']);

export function isConflict(err: unknown): boolean {
  return CONFLICT_CODES.has((err as { code?: string } | null)?.code ?? '');
}

/**
 * `db.withTransaction(fn)`, run again (up to `attempts` times in all, with a short jittered
 * pause) when it fails with a deadlock or serialization failure.
 *
 * @example
 * ```ts
 * await withConflictRetry(db, (tx) => mergeGraph(tx, records), { logger });
 * ```
 */
export async function withConflictRetry<T>(
  db: Database,
  fn: (tx: Queryable) => Promise<T>,
  options: { attempts?: number; logger?: Logger } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.withTransaction(fn, { idempotent: true });
    } catch (err) {
      if (!isConflict(err) || attempt >= attempts) throw err;
      const delayMs = Math.round(20 * 2 ** attempt * (0.5 + Math.random()));
      options.logger?.warn('transaction lost a lock conflict; running it again', {
        attempt,
        delayMs,
        code: (err as { code?: string }).code,
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
