/**
 * What every LightRAG table shares: rows keyed by (workspace, id), read and deleted by id, and
 * upserted in batches with `unnest` (a fixed number of bind parameters, one round trip a batch).
 * Storages extend it with their own columns; the workspace scopes every statement.
 */
import type { Database, Queryable } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { dedupeLastWins, splitBatches } from './batch.ts';
import { assertIdentifier } from './tables.ts';
import { WorkspaceBound } from './workspace-bound.ts';

/** Column expression for a JSONB column sent as JSON text. */
export const asJsonb = (v: string) => `${v}::jsonb`;

/** LightRAG's ids are VARCHAR(255). */
export const MAX_ID_LENGTH = 255;

/** One column written by an upsert: how to take its value from a record and how to cast it. */
export interface ColumnSpec<R> {
  name: string;
  /** Element type of the parameter array passed to `unnest`. */
  arrayType: 'text' | 'int4' | 'float8';
  /** SQL turning the unnested value `v` into the column's type, e.g. `v::jsonb`. Default: `v`. */
  expression?: (v: string) => string;
  value: (record: R) => unknown;
  /** Approximate bytes the value adds to the statement, for splitting. Default: string length. */
  size?: (record: R) => number;
  /** Keep the stored value when the row already exists (e.g. a creation time). */
  keepOnUpdate?: boolean;
}

export abstract class WorkspaceTable<Row> extends WorkspaceBound {
  readonly table: string;

  constructor(db: Database, workspace: string, table: string) {
    super(db, workspace);
    this.table = assertIdentifier(table);
  }

  /** Longest id the table's key column holds. */
  protected readonly maxIdLength: number = MAX_ID_LENGTH;

  /** The SELECT list that {@link mapRow} reads. */
  protected abstract readonly selectList: string;
  protected abstract mapRow(row: Record<string, unknown>): Row;

  async getById(id: string): Promise<Row | null> {
    const [row] = await this.getByIds([id]);
    return row ?? null;
  }

  /** Rows for `ids` in the same order, `null` where an id is not stored. */
  async getByIds(ids: readonly string[]): Promise<(Row | null)[]> {
    const wanted = validateIds(ids, this.maxIdLength);
    if (wanted.length === 0) return [];
    const { rows } = await this.q.query(
      `SELECT ${this.selectList} FROM ${this.table} WHERE workspace = $1 AND id = ANY($2::text[])`,
      [this.workspace, [...new Set(wanted)]],
    );
    const byId = new Map(rows.map((row) => [row.id as string, this.mapRow(row)]));
    return wanted.map((id) => byId.get(id) ?? null);
  }

  /** The keys that are NOT stored yet (LightRAG's `filter_keys`). */
  async filterKeys(keys: Iterable<string>): Promise<Set<string>> {
    const wanted = [...new Set(validateIds([...keys], this.maxIdLength))];
    if (wanted.length === 0) return new Set();
    const { rows } = await this.q.query<{ id: string }>(
      `SELECT id FROM ${this.table} WHERE workspace = $1 AND id = ANY($2::text[])`,
      [this.workspace, wanted],
    );
    const stored = new Set(rows.map((r) => r.id));
    return new Set(wanted.filter((id) => !stored.has(id)));
  }

  /** Deletes the given ids in this workspace; returns how many rows went. */
  async delete(ids: readonly string[]): Promise<number> {
    const wanted = validateIds(ids, this.maxIdLength);
    if (wanted.length === 0) return 0;
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND id = ANY($2::text[])`,
      [this.workspace, [...new Set(wanted)]],
    );
    return rowCount;
  }

  async count(): Promise<number> {
    const { rows } = await this.q.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.table} WHERE workspace = $1`,
      [this.workspace],
    );
    return rows[0]?.n ?? 0;
  }

  async isEmpty(): Promise<boolean> {
    const { rowCount } = await this.q.query(
      `SELECT 1 FROM ${this.table} WHERE workspace = $1 LIMIT 1`,
      [this.workspace],
    );
    return rowCount === 0;
  }

  /** Deletes every row of this workspace (other workspaces and the table itself stay). */
  async drop(): Promise<number> {
    const { rowCount } = await this.q.query(`DELETE FROM ${this.table} WHERE workspace = $1`, [
      this.workspace,
    ]);
    return rowCount;
  }

  /**
   * Inserts or updates `records` by id: duplicates collapsed (last wins), split by bytes, one
   * statement a batch, all batches in one transaction so a failure leaves nothing half-written.
   */
  protected async upsertRecords<R extends { id: string }>(
    records: readonly R[],
    columns: readonly ColumnSpec<R>[],
    options: { updateTimestamp?: string | null; form?: 'unnest' | 'values' } = {},
  ): Promise<number> {
    if (records.length === 0) return 0;
    validateIds(
      records.map((r) => r.id),
      this.maxIdLength,
    );
    const unique = dedupeLastWins(records, (r) => r.id);
    const form = options.form ?? 'unnest';
    const batches = splitBatches(
      unique,
      { parametersPerRecord: columns.length + 1, parametersGrowWithRows: form === 'values' },
      (r) =>
        r.id.length +
        columns.reduce((sum, c) => sum + (c.size ? c.size(r) : sizeOf(c.value(r))), 0),
    );
    const updateTimestamp =
      options.updateTimestamp === undefined ? 'update_time' : options.updateTimestamp;
    const run = async (q: Queryable) => {
      for (const batch of batches) {
        if (form === 'values') {
          await q.query(this.#valuesSql(columns, batch.length, updateTimestamp), [
            this.workspace,
            ...batch.flatMap((r) => [r.id, ...columns.map((c) => c.value(r))]),
          ]);
        } else {
          await q.query(this.#upsertSql(columns, updateTimestamp), [
            this.workspace,
            batch.map((r) => r.id),
            ...columns.map((c) => batch.map(c.value)),
          ]);
        }
      }
    };
    if (this.inTransaction || batches.length === 1) await run(this.q);
    else await this.db.withTransaction(run);
    return unique.length;
  }

  /**
   * The multi-row VALUES form: one bind parameter per value, so a value can travel in binary
   * (pgvector's binary format for vectors: no float formatting or parsing, 4 bytes a dimension).
   */
  #valuesSql<R>(
    columns: readonly ColumnSpec<R>[],
    rows: number,
    updateTimestamp: string | null,
  ): string {
    const width = columns.length + 1;
    const tuples = Array.from({ length: rows }, (_, r) => {
      const base = 2 + r * width;
      const values = columns.map((c, i) => {
        const param = `$${base + 1 + i}::${c.arrayType}`;
        return c.expression
          ? c.expression(c.arrayType === 'text' ? `$${base + 1 + i}` : param)
          : param;
      });
      return `($1, $${base}::text, ${values.join(', ')})`;
    });
    return `INSERT INTO ${this.table} (workspace, id, ${columns.map((c) => assertIdentifier(c.name)).join(', ')})
      VALUES ${tuples.join(',\n')}
      ON CONFLICT (workspace, id) DO UPDATE SET ${this.#updates(columns, updateTimestamp)}`;
  }

  #upsertSql<R>(columns: readonly ColumnSpec<R>[], updateTimestamp: string | null): string {
    const names = columns.map((c) => assertIdentifier(c.name));
    const arrays = columns.map((c, i) => `$${i + 3}::${c.arrayType}[]`).join(', ');
    const select = columns
      .map((c) => (c.expression ? c.expression(`u.${c.name}`) : `u.${c.name}`))
      .join(', ');
    return `INSERT INTO ${this.table} (workspace, id, ${names.join(', ')})
      SELECT $1, u.id, ${select} FROM unnest($2::text[], ${arrays}) AS u(id, ${names.join(', ')})
      ON CONFLICT (workspace, id) DO UPDATE SET ${this.#updates(columns, updateTimestamp)}`;
  }

  #updates<R>(columns: readonly ColumnSpec<R>[], updateTimestamp: string | null): string {
    return columns
      .filter((c) => !c.keepOnUpdate)
      .map((c) => `${c.name} = EXCLUDED.${c.name}`)
      .concat(
        updateTimestamp
          ? [`${assertIdentifier(updateTimestamp)} = CURRENT_TIMESTAMP AT TIME ZONE 'UTC'`]
          : [],
      )
      .join(', ');
  }
}

/** Checks ids are non-empty strings within LightRAG's 255 characters, without NUL. */
export function validateIds(ids: readonly unknown[], maxLength = MAX_ID_LENGTH): string[] {
  if (!Array.isArray(ids)) throw new ValidationError('ids must be an array of strings.');
  for (const id of ids) {
    if (
      typeof id !== 'string' ||
      id.length === 0 ||
      id.length > maxLength ||
      id.includes('\u0000')
    ) {
      throw new ValidationError(
        `Invalid id ${JSON.stringify(typeof id === 'string' ? id.slice(0, 80) : id)}: ids are 1-${maxLength} characters without NUL.`,
        { id: typeof id === 'string' ? id.slice(0, 80) : null },
      );
    }
  }
  return ids as string[];
}

function sizeOf(value: unknown): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.length;
  return 16;
}

/** `EXTRACT(EPOCH …)` as a JS number of seconds (LightRAG's KV timestamps). */
export function epochColumn(column: string, alias = column): string {
  return `EXTRACT(EPOCH FROM ${column})::float8 AS ${alias}`;
}

/** A TIMESTAMP (stored as UTC) as LightRAG's ISO text with an explicit offset. */
export function isoColumn(column: string, alias = column): string {
  return `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') AS ${alias}`;
}
