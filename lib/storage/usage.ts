/**
 * Daily usage aggregates (`lightrag_serverless_usage`): one row per workspace, day, purpose and
 * model, added to with atomic increments so concurrent containers never lose counts.
 */
import type { Queryable } from '../db/database.ts';
import { TABLES } from './tables.ts';

/** A day's usage of one workspace, purpose and model. */
export interface UsageRow {
  workspace: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  purpose: string;
  model: string;
  calls: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
}

/** Adds the rows to the stored totals, one statement. */
export async function addUsage(db: Queryable, rows: readonly UsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof UsageRow>(k: K) => rows.map((r) => r[k]);
  await db.query(
    `INSERT INTO ${TABLES.usage} AS t
       (workspace, day, purpose, model, calls, cache_hits, prompt_tokens, completion_tokens)
     SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[], $8::int8[])
     ON CONFLICT (workspace, day, purpose, model) DO UPDATE SET
       calls = t.calls + EXCLUDED.calls,
       cache_hits = t.cache_hits + EXCLUDED.cache_hits,
       prompt_tokens = t.prompt_tokens + EXCLUDED.prompt_tokens,
       completion_tokens = t.completion_tokens + EXCLUDED.completion_tokens,
       updated_at = now()`,
    [
      col('workspace'),
      col('day'),
      col('purpose'),
      col('model'),
      col('calls'),
      col('cacheHits'),
      col('promptTokens'),
      col('completionTokens'),
    ],
  );
}

/** A workspace's usage from `since` (a UTC day) on, by day, purpose and model. */
export async function readUsage(
  db: Queryable,
  workspace: string,
  since: string,
): Promise<UsageRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT workspace, to_char(day, 'YYYY-MM-DD') AS day, purpose, model, calls, cache_hits,
            prompt_tokens, completion_tokens
       FROM ${TABLES.usage} WHERE workspace = $1 AND day >= $2::date
      ORDER BY day, purpose, model`,
    [workspace, since],
  );
  return rows.map((r) => ({
    workspace: r.workspace as string,
    day: r.day as string,
    purpose: r.purpose as string,
    model: r.model as string,
    calls: Number(r.calls),
    cacheHits: Number(r.cache_hits),
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
  }));
}
