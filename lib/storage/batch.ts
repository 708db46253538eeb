/**
 * Batch shaping for multi-row statements. Duplicated ids in one statement make Postgres fail
 * with "ON CONFLICT DO UPDATE command cannot affect row a second time", so they are collapsed
 * (last wins); batches are split by the 65,535 bind-parameter limit and by bytes.
 */

/** Postgres's wire protocol allows at most 65,535 bind parameters per statement. */
export const MAX_BIND_PARAMETERS = 65_535;
/** Keeps one statement's parameters well below Lambda memory and Neon's message limits. */
export const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** Keeps the last record for each key, in the order keys first appeared. */
export function dedupeLastWins<T>(records: readonly T[], key: (record: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const record of records) byKey.set(key(record), record);
  return [...byKey.values()];
}

/** What one statement may carry: bind parameters and bytes. */
export interface SplitLimits {
  /** Bind parameters one record uses in the statement (for `unnest` batches: 1 per column). */
  parametersPerRecord: number;
  /** Whether parameter use grows with rows (VALUES lists) or is fixed per statement (unnest). */
  parametersGrowWithRows: boolean;
  maxBytes?: number;
}

/**
 * Splits records into batches that respect the parameter and byte limits. A single record larger
 * than the byte limit still gets a batch of its own (the database is the judge of it).
 *
 * @example
 * ```ts
 * splitBatches(rows, { parametersPerRecord: 7, parametersGrowWithRows: false }, (r) => r.content.length);
 * ```
 */
export function splitBatches<T>(
  records: readonly T[],
  limits: SplitLimits,
  sizeOf: (record: T) => number,
): T[][] {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const maxRows = limits.parametersGrowWithRows
    ? Math.max(1, Math.floor(MAX_BIND_PARAMETERS / limits.parametersPerRecord))
    : Number.POSITIVE_INFINITY;
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf(record);
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
