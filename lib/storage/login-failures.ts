/**
 * Failed logins counted per key in fixed windows (`lightrag_serverless_login_failures`), shared
 * by every container so a guesser cannot spread attempts over them. Keys are SHA-256 digests.
 */
import type { Queryable } from '../db/database.ts';
import { TABLES } from './tables.ts';

/** The failures of each key within its current window (0 once a window has passed). */
export async function recentFailures(
  db: Queryable,
  keys: readonly string[],
  windowSeconds: number,
): Promise<Map<string, { failures: number; retryAfterSeconds: number }>> {
  const { rows } = await db.query<{ key: string; failures: number; retry_after: number }>(
    `SELECT key, failures,
            ceil(extract(epoch FROM window_start + make_interval(secs => $2) - now()))::int AS retry_after
       FROM ${TABLES.loginFailures}
      WHERE key = ANY($1::text[]) AND window_start > now() - make_interval(secs => $2)`,
    [keys, windowSeconds],
  );
  return new Map(
    rows.map((r) => [
      r.key,
      { failures: Number(r.failures), retryAfterSeconds: Math.max(1, Number(r.retry_after)) },
    ]),
  );
}

/** Counts one failure for each key (a window that has passed starts again). */
export async function addFailure(
  db: Queryable,
  keys: readonly string[],
  windowSeconds: number,
): Promise<void> {
  await db.query(
    `INSERT INTO ${TABLES.loginFailures} AS t (key, window_start, failures)
     SELECT k, now(), 1 FROM unnest($1::text[]) AS k
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN t.window_start > now() - make_interval(secs => $2) THEN t.failures + 1 ELSE 1 END,
       window_start = CASE WHEN t.window_start > now() - make_interval(secs => $2) THEN t.window_start ELSE now() END`,
    [keys, windowSeconds],
  );
}

/** Forgets the failures of `keys` (after a successful login). */
export async function clearFailures(db: Queryable, keys: readonly string[]): Promise<void> {
  await db.query(`DELETE FROM ${TABLES.loginFailures} WHERE key = ANY($1::text[])`, [keys]);
}
