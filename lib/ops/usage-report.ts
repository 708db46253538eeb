/**
 * A workspace's usage over a period (`GET /usage`, `lightrag-serverless usage`): the daily rows
 * and their totals by purpose.
 */
import type { Queryable } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { readUsage, type UsageRow } from '../storage/usage.ts';

/** `GET /usage`: a workspace's model calls and tokens by day, purpose and model, with totals. */
export interface UsageReport {
  workspace: string;
  /** First UTC day included. */
  since: string;
  rows: Array<Omit<UsageRow, 'workspace'>>;
  totals: Record<
    string,
    { calls: number; cacheHits: number; promptTokens: number; completionTokens: number }
  >;
}

/**
 * `7d` (the last seven days, today included), `30d`, or a day `YYYY-MM-DD`.
 *
 * @example
 * ```ts
 * sinceDay('7d', new Date('2026-12-01T10:00:00Z')); // '2026-11-25'
 * ```
 */
export function sinceDay(text: string | undefined, now = new Date()): string {
  const value = (text ?? '7d').trim();
  const days = /^(\d{1,4})d$/.exec(value);
  if (days) {
    const n = Number(days[1]);
    if (n < 1 || n > 3660)
      throw new ValidationError('"since" must be 1d to 3660d, or a day YYYY-MM-DD.');
    return new Date(now.getTime() - (n - 1) * 86_400_000).toISOString().slice(0, 10);
  }
  // Date.parse rolls 2026-02-31 over to March 3rd; a real day reads back as itself.
  const parsed = Date.parse(`${value}T00:00:00Z`);
  if (
    /^\d{4}-\d{2}-\d{2}$/.test(value) &&
    !Number.isNaN(parsed) &&
    new Date(parsed).toISOString().slice(0, 10) === value
  )
    return value;
  throw new ValidationError(
    `"since" must be like 7d or 2026-11-01, got ${JSON.stringify(value.slice(0, 40))}.`,
    {
      field: 'since',
    },
  );
}

export async function usageReport(
  db: Queryable,
  workspace: string,
  since: string,
): Promise<UsageReport> {
  const rows = await readUsage(db, workspace, since);
  const totals: UsageReport['totals'] = {};
  for (const r of rows) {
    totals[r.purpose] ??= { calls: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0 };
    const t = totals[r.purpose]!;
    t.calls += r.calls;
    t.cacheHits += r.cacheHits;
    t.promptTokens += r.promptTokens;
    t.completionTokens += r.completionTokens;
  }
  return { workspace, since, rows: rows.map(({ workspace: _w, ...r }) => r), totals };
}
