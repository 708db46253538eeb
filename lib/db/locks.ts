/**
 * Every advisory lock this project takes, in one place: their keys must agree between all
 * writers, and their order between kinds must stay fixed — schema lock alone; otherwise the
 * document lock first, then the entity locks in ascending key order — or writers deadlock.
 * All are transaction-scoped (`pg_advisory_xact_lock`): they end with the transaction, which
 * works through Neon's pooler, and are never held across an LLM or embedding call.
 */
import type { Queryable } from './database.ts';

/** The schema check/repair of a cold start (one container at a time). */
export const SCHEMA_LOCK_KEY = 7_245_311_001;

export async function lockSchema(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
}

/** One writer per document: two deliveries, or a delivery and a deletion, cannot interleave. */
export async function lockDocument(tx: Queryable, workspace: string, docId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lightrag:${workspace}:${docId}`]);
}

/**
 * The per-entity locks of a workspace, in ascending key order in one statement. Every writer of
 * the graph (ingest merges, deletions) takes them this way, after its document lock; relations
 * are covered by the locks of their two ends.
 */
export async function lockEntities(
  tx: Queryable,
  workspace: string,
  names: Iterable<string>,
): Promise<void> {
  const list = [...new Set(names)];
  if (list.length === 0) return;
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT DISTINCT hashtextextended('lightrag:' || $1 || ':entity:' || n, 0) AS k
         FROM unnest($2::text[]) AS n ORDER BY k) AS keys`,
    [workspace, list],
  );
}
