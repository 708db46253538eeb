/**
 * The schema, checked and healed on cold start. One catalog query per container reads what is
 * really there — tables, columns, vector column types and dimensions, indexes, triggers, the
 * pgvector version and this configuration's marker row — and compares it with what the
 * configuration needs (schema-ddl.ts). Anything missing (a table LightRAG dropped, a column, an
 * index) is created again by the idempotent DDL, never by dropping data. The DDL runs under a
 * transaction-scoped advisory lock (session locks do not survive Neon's transaction pooler), so
 * many containers starting at once on an empty database create everything exactly once.
 */
import type { VectorConfig } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import { lockSchema } from '../db/locks.ts';
import { DimensionMismatchError, SchemaError } from '../errors.ts';
import {
  type CatalogState,
  createTableSql,
  DEGREE_BACKFILL,
  MARKER_TABLE,
  planSchema,
  SCHEMA_VERSION,
  type SchemaPlan,
  TRIGGERS,
  TRIGGERS_DDL,
  UPGRADES,
  type VectorColumnType,
} from './schema-ddl.ts';
import { TABLES, type VectorNamespace } from './tables.ts';

export {
  planSchema,
  SCHEMA_VERSION,
  type SchemaPlan,
  type VectorColumnType,
  type VectorLayout,
  vectorLayout,
} from './schema-ddl.ts';

/** pgvector's first version with iterative index scans (`hnsw.iterative_scan`). */
const ITERATIVE_SCAN_VERSION = [0, 8, 0];

/** What checking (or creating) the schema did. */
export interface SchemaResult {
  key: string;
  /** True when this call ran DDL (created or repaired something); false on the checked path. */
  applied: boolean;
  vectorTables: Record<VectorNamespace, string>;
  vectorColumns: Record<VectorNamespace, VectorColumnType>;
  /** What the check found missing before the DDL ran, e.g. `table lightrag_vdb_chunks`. */
  repaired: string[];
  /** The installed pgvector version, e.g. `0.8.0`. */
  pgvectorVersion: string;
  /** pgvector ≥ 0.8: filtered vector searches can continue the index scan (lib/storage/vector.ts). */
  iterativeScan: boolean;
}

const ensured = new WeakMap<Database, Map<string, Promise<SchemaResult>>>();
/** Plan keys by configuration object: every storage call asks, so the plan is built once. */
const planKeys = new WeakMap<VectorConfig, string>();

/**
 * Checks and, when needed, completes the schema once per container and configuration; later
 * calls share the first call's promise (no query on the warm path). A failure is not memoised,
 * so the next invocation tries again.
 */
export function ensureSchema(db: Database, vector: VectorConfig): Promise<SchemaResult> {
  let memoKey = planKeys.get(vector);
  if (memoKey === undefined) {
    memoKey = planSchema(vector).key;
    planKeys.set(vector, memoKey);
  }
  let perDb = ensured.get(db);
  if (!perDb) {
    perDb = new Map();
    ensured.set(db, perDb);
  }
  let pending = perDb.get(memoKey);
  if (!pending) {
    pending = applySchema(db, vector).catch((err: unknown) => {
      perDb.delete(memoKey);
      throw err;
    });
    perDb.set(memoKey, pending);
  }
  return pending;
}

/**
 * What the schema lacks for this configuration, read from the catalog without changing anything
 * (`lightrag-serverless doctor`). A vector table of another dimension throws, as at cold start.
 */
export async function inspectSchema(
  db: Queryable,
  vector: VectorConfig,
): Promise<{ missing: string[]; pgvectorVersion: string | null; iterativeScan: boolean }> {
  const state = await inspect(db, planSchema(vector), vector);
  return {
    missing: state.missing,
    pgvectorVersion: state.pgvector,
    iterativeScan: result(state, false, []).iterativeScan,
  };
}

/** Checks the catalog now and runs the DDL if anything is missing. Not memoised. */
export async function applySchema(db: Database, vector: VectorConfig): Promise<SchemaResult> {
  const first = await inspect(db, planSchema(vector), vector);
  if (first.missing.length === 0) return result(first, false, []);
  return db.withTransaction(async (tx) => {
    await lockSchema(tx);
    await tx.query(MARKER_TABLE);
    // Another container may have finished while this one waited for the lock.
    const locked = await inspect(tx, first.plan, vector);
    if (locked.missing.length === 0) return result(locked, false, []);
    locked.pgvector = await createExtension(tx);
    for (const table of locked.plan.tables) {
      const found = locked.columns.get(table.name);
      if (!found) {
        await tx.query(createTableSql(table));
        continue;
      }
      // A table that lost columns (an older version, a manual change) gets them back in place.
      for (const [column, definition] of table.columns) {
        if (!found.has(column))
          await tx.query(
            `ALTER TABLE ${table.name} ADD COLUMN IF NOT EXISTS ${column} ${definition}`,
          );
      }
    }
    for (const upgrade of UPGRADES)
      for (const statement of upgrade.statements(locked)) await tx.query(statement);
    await tx.query(TRIGGERS_DDL);
    // Rows written while the triggers were missing (by LightRAG, before this project first ran)
    // were never counted: recount.
    if (locked.missing.some((m) => m.startsWith('trigger ') || m.endsWith('.degree')))
      for (const statement of DEGREE_BACKFILL) await tx.query(statement);
    for (const index of locked.plan.indexes) await tx.query(index.sql);
    await tx.query(
      `INSERT INTO ${TABLES.schemaMarker} (id, version, detail) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (id) DO UPDATE SET applied_at = CURRENT_TIMESTAMP, detail = EXCLUDED.detail`,
      [
        locked.plan.key,
        SCHEMA_VERSION,
        JSON.stringify({
          vectorTables: locked.plan.vectorTables,
          vector,
          repaired: locked.missing,
        }),
      ],
    );
    return result(locked, true, locked.missing);
  });
}

interface Inspection extends CatalogState {
  plan: SchemaPlan;
  pgvector: string | null;
  missing: string[];
}

function result(state: Inspection, applied: boolean, repaired: string[]): SchemaResult {
  const version = state.pgvector ?? '0';
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  let iterativeScan = true;
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== ITERATIVE_SCAN_VERSION[i]) {
      iterativeScan = (parts[i] ?? 0) > ITERATIVE_SCAN_VERSION[i]!;
      break;
    }
  }
  return {
    key: state.plan.key,
    applied,
    vectorTables: state.plan.vectorTables,
    vectorColumns: state.plan.vectorColumns,
    repaired,
    pgvectorVersion: version,
    iterativeScan,
  };
}

/**
 * One catalog query: what exists of the plan. Vector columns of another dimension, or of no
 * fixed dimension, are refused here, before any DDL.
 */
async function inspect(
  db: Queryable,
  draft: SchemaPlan,
  vector: VectorConfig,
): Promise<Inspection> {
  const tables = draft.tables.map((t) => t.name);
  type CatalogRow = {
    pgvector: string | null;
    marker: boolean;
    columns: string[][];
    constraints: Record<string, string>;
    indexes: string[];
    triggers: string[];
  };
  let row: CatalogRow;
  try {
    const inSchema =
      'c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])';
    const { rows } = await db.query<CatalogRow>(
      `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector,
         EXISTS (SELECT 1 FROM ${TABLES.schemaMarker} WHERE id = $2) AS marker,
         (SELECT coalesce(json_agg(json_build_array(c.relname, a.attname, format_type(a.atttypid, a.atttypmod))), '[]')
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE c.relkind IN ('r', 'p') AND ${inSchema}) AS columns,
         (SELECT coalesce(json_object_agg(x.conname, pg_get_constraintdef(x.oid)), '{}')
            FROM pg_constraint x JOIN pg_class c ON c.oid = x.conrelid WHERE ${inSchema}) AS constraints,
         (SELECT coalesce(json_agg(i.relname), '[]')
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
           WHERE ${inSchema}) AS indexes,
         (SELECT coalesce(json_agg(t.tgname), '[]')
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
           WHERE NOT t.tgisinternal AND ${inSchema}) AS triggers`,
      [tables, draft.key],
    );
    row = rows[0]!;
  } catch (err) {
    // undefined_table: the marker table does not exist, so nothing of this project does yet.
    if ((err as { code?: string }).code !== '42P01') throw err;
    return {
      plan: draft,
      pgvector: null,
      columns: new Map(),
      constraints: new Map(),
      indexes: new Set(),
      missing: ['marker table'],
    };
  }
  const columns = new Map<string, Map<string, string>>();
  for (const [table, column, type] of row.columns) {
    if (!columns.has(table!)) columns.set(table!, new Map());
    columns.get(table!)!.set(column!, type!);
  }
  const vectorColumns: Record<string, VectorColumnType> = {};
  for (const table of Object.values(draft.vectorTables)) {
    const type = columns.get(table)?.get('content_vector');
    if (type !== undefined) vectorColumns[table] = checkVectorColumn(table, type, vector);
  }
  // Existing halfvec tables change the plan's indexes and marker key.
  const plan = planSchema(vector, vectorColumns);
  const missing: string[] = [];
  if (!row.pgvector) missing.push('extension vector');
  for (const table of plan.tables) {
    const found = columns.get(table.name);
    if (!found) missing.push(`table ${table.name}`);
    else
      for (const [column] of table.columns)
        if (!found.has(column)) missing.push(`column ${table.name}.${column}`);
  }
  const indexes = new Set(row.indexes);
  for (const index of plan.indexes)
    if (!indexes.has(index.name)) missing.push(`index ${index.name}`);
  const triggers = new Set(row.triggers);
  for (const trigger of TRIGGERS) if (!triggers.has(trigger)) missing.push(`trigger ${trigger}`);
  const state = { columns, constraints: new Map(Object.entries(row.constraints)), indexes };
  for (const upgrade of UPGRADES)
    if (upgrade.statements(state).length > 0) missing.push(`upgrade: ${upgrade.name}`);
  if (!row.marker || plan.key !== draft.key) missing.push(`marker ${plan.key}`);
  return { plan, pgvector: row.pgvector, ...state, missing };
}

/** A `vector(n)` or `halfvec(n)` column of the configured dimension, or a refusal. */
function checkVectorColumn(table: string, type: string, vector: VectorConfig): VectorColumnType {
  const match = /^(vector|halfvec)(?:\((\d+)\))?$/.exec(type);
  if (!match?.[2]) {
    throw new SchemaError(
      `Table ${table} has a content_vector column of type ${type} without a fixed dimension, ` +
        `so no vector index can serve it. Convert it with ALTER TABLE ${table} ALTER COLUMN content_vector ` +
        `TYPE vector(${vector.dimension}), or set EMBEDDING_MODEL to use model-suffixed tables.`,
      { table },
    );
  }
  const dims = Number(match[2]);
  if (dims !== vector.dimension) {
    throw new DimensionMismatchError(
      `Table ${table} stores ${dims}-dimension vectors but EMBEDDING_DIM is ${vector.dimension}. ` +
        `Set EMBEDDING_DIM=${dims} to keep using it, or set EMBEDDING_MODEL so this model gets its own ` +
        'tables (name_{model}_{dim}d). Nothing was changed.',
      { expected: vector.dimension, actual: dims, table },
    );
  }
  return match[1] as VectorColumnType;
}

/** Creates pgvector if needed; returns its version. */
async function createExtension(tx: Queryable): Promise<string> {
  try {
    await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
    const { rows } = await tx.query<{ v: string }>(
      "SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'",
    );
    return rows[0]!.v;
  } catch (err) {
    throw new SchemaError(
      'The pgvector extension is not available on this PostgreSQL server. On Neon it is built in; ' +
        'elsewhere install pgvector (this repository: scripts/setup-pgvector.sh) or ask the administrator to.',
      {},
      { cause: err },
    );
  }
}
