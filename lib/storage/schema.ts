/**
 * LightRAG's PostgreSQL schema, created on cold start. Safe when many containers start at once
 * on an empty database: DDL runs under a transaction-scoped advisory lock (session locks do not
 * survive Neon's transaction-mode pooler), and a marker row keyed by a hash of the DDL makes the
 * already-initialised path one cheap query.
 */
import { createHash } from 'node:crypto';
import type { VectorConfig } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import { DimensionMismatchError, SchemaError } from '../errors.ts';
import {
  assertIdentifier,
  TABLES,
  VECTOR_BASE_TABLES,
  type VectorNamespace,
  vectorTableName,
} from './tables.ts';

/** Bumped when the DDL below changes in a way the hash alone should not decide. */
export const SCHEMA_VERSION = 2;
/** Arbitrary constant naming this project's DDL lock. */
const SCHEMA_LOCK_KEY = 7_245_311_001;

const TIMESTAMPS = `create_time TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
  update_time TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP`;

const CORE_TABLES = `
CREATE TABLE IF NOT EXISTS ${TABLES.fullDocs} (
  id VARCHAR(255), workspace VARCHAR(255), doc_name VARCHAR(1024), content TEXT, meta JSONB,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_doc_full_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.textChunks} (
  id VARCHAR(255), workspace VARCHAR(255), full_doc_id VARCHAR(256), chunk_order_index INTEGER,
  tokens INTEGER, content TEXT, file_path TEXT NULL, llm_cache_list JSONB NULL DEFAULT '[]'::jsonb,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_doc_chunks_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.llmCache} (
  workspace VARCHAR(255) NOT NULL, id VARCHAR(255) NOT NULL, original_prompt TEXT, return_value TEXT,
  chunk_id VARCHAR(255) NULL, cache_type VARCHAR(32), queryparam JSONB NULL,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_llm_cache_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.docStatus} (
  workspace VARCHAR(255) NOT NULL, id VARCHAR(255) NOT NULL, content_summary VARCHAR(255) NULL,
  content_length INT4 NULL, chunks_count INT4 NULL, status VARCHAR(64) NULL, file_path TEXT NULL,
  chunks_list JSONB NULL DEFAULT '[]'::jsonb, track_id VARCHAR(255) NULL,
  metadata JSONB NULL DEFAULT '{}'::jsonb, error_msg TEXT NULL, content_hash TEXT NULL,
  created_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT lightrag_doc_status_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.fullEntities} (
  id VARCHAR(255), workspace VARCHAR(255), entity_names JSONB, count INTEGER,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_full_entities_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.fullRelations} (
  id VARCHAR(255), workspace VARCHAR(255), relation_pairs JSONB, count INTEGER,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_full_relations_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.entityChunks} (
  id VARCHAR(512), workspace VARCHAR(255), chunk_ids JSONB, count INTEGER,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_entity_chunks_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.relationChunks} (
  id VARCHAR(512), workspace VARCHAR(255), chunk_ids JSONB, count INTEGER,
  ${TIMESTAMPS},
  CONSTRAINT lightrag_relation_chunks_pk PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS ${TABLES.graphNodes} (
  workspace VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, id VARCHAR(512) NOT NULL,
  properties JSONB NOT NULL DEFAULT '{}'::jsonb, updated_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT lightrag_graph_nodes_pk PRIMARY KEY (workspace, namespace, id));
-- Incident edges, kept by the triggers below so traversal can rank a hub's thousands of
-- neighbours without counting each one's edges. Deliberately not indexed: an unindexed column
-- keeps the triggers' updates HOT (no index writes); ranking all nodes is a sort of one column.
ALTER TABLE ${TABLES.graphNodes} ADD COLUMN IF NOT EXISTS degree INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS ${TABLES.graphEdges} (
  workspace VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL,
  src_id VARCHAR(512) NOT NULL, tgt_id VARCHAR(512) NOT NULL,
  properties JSONB NOT NULL DEFAULT '{}'::jsonb, updated_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT lightrag_graph_edges_pk PRIMARY KEY (workspace, namespace, src_id, tgt_id),
  -- Undirected edges are stored once, ends in code-point order ("C" collation = UTF-8 byte order).
  CONSTRAINT lightrag_graph_edges_canonical CHECK (src_id COLLATE "C" < tgt_id COLLATE "C"),
  CONSTRAINT lightrag_graph_edges_src_fk FOREIGN KEY (workspace, namespace, src_id)
    REFERENCES ${TABLES.graphNodes} (workspace, namespace, id) ON DELETE CASCADE,
  CONSTRAINT lightrag_graph_edges_tgt_fk FOREIGN KEY (workspace, namespace, tgt_id)
    REFERENCES ${TABLES.graphNodes} (workspace, namespace, id) ON DELETE CASCADE);
-- Statement-level, over the transition table: one UPDATE per statement however many edges it
-- wrote (row-level updates of a hub thousands of times in one transaction grow a version chain).
-- An upsert that hits an existing edge is an UPDATE and leaves degrees alone; a node's
-- cascade-deleted edges arrive as DELETEs and lower their other end.
CREATE OR REPLACE FUNCTION lightrag_graph_degree_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
  r record;
BEGIN
  -- One indexed UPDATE per touched node, in key order (the lock order every writer shares).
  FOR r IN SELECT workspace, namespace, id, count(*)::int AS c FROM (
             SELECT workspace, namespace, src_id AS id FROM changed_edges
             UNION ALL SELECT workspace, namespace, tgt_id FROM changed_edges) ends
           GROUP BY workspace, namespace, id ORDER BY workspace, namespace, id LOOP
    UPDATE ${TABLES.graphNodes} SET degree = degree + sign * r.c
     WHERE workspace = r.workspace AND namespace = r.namespace AND id = r.id;
  END LOOP;
  RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER lightrag_graph_edges_added AFTER INSERT ON ${TABLES.graphEdges}
  REFERENCING NEW TABLE AS changed_edges FOR EACH STATEMENT EXECUTE FUNCTION lightrag_graph_degree_change();
CREATE OR REPLACE TRIGGER lightrag_graph_edges_removed AFTER DELETE ON ${TABLES.graphEdges}
  REFERENCING OLD TABLE AS changed_edges FOR EACH STATEMENT EXECUTE FUNCTION lightrag_graph_degree_change();
`;

const MARKER_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLES.schemaMarker} (
  id VARCHAR(255) PRIMARY KEY, version INTEGER NOT NULL, detail JSONB,
  applied_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP)`;

const CORE_INDEXES = `
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_chunks_full_doc_id ON ${TABLES.textChunks} (workspace, full_doc_id);
CREATE INDEX IF NOT EXISTS idx_lightrag_llm_cache_chunk_id ON ${TABLES.llmCache} (workspace, chunk_id);
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_status_status_updated ON ${TABLES.docStatus} (workspace, status, updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_status_status_created ON ${TABLES.docStatus} (workspace, status, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_status_updated ON ${TABLES.docStatus} (workspace, updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_status_created ON ${TABLES.docStatus} (workspace, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_status_file_path ON ${TABLES.docStatus} (workspace, file_path);
CREATE INDEX IF NOT EXISTS idx_lightrag_doc_status_track_id ON ${TABLES.docStatus} (workspace, track_id);
CREATE INDEX IF NOT EXISTS idx_lightrag_graph_edges_tgt ON ${TABLES.graphEdges} (workspace, namespace, tgt_id, src_id);`;

function vectorTableDdl(namespace: VectorNamespace, table: string, dim: number): string {
  const columns = {
    chunks: `full_doc_id VARCHAR(256), chunk_order_index INTEGER, tokens INTEGER, content TEXT,
  content_vector VECTOR(${dim}), file_path TEXT NULL`,
    entities: `entity_name VARCHAR(512), content TEXT, content_vector VECTOR(${dim}),
  chunk_ids VARCHAR(255)[] NULL, file_path TEXT NULL`,
    relationships: `source_id VARCHAR(512), target_id VARCHAR(512), content TEXT, content_vector VECTOR(${dim}),
  chunk_ids VARCHAR(255)[] NULL, file_path TEXT NULL`,
  }[namespace];
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  id VARCHAR(255), workspace VARCHAR(255), ${columns},
  ${TIMESTAMPS},
  CONSTRAINT ${assertIdentifier(`${table.slice(0, 60)}_pk`)} PRIMARY KEY (workspace, id));`;
}

function indexName(table: string, suffix: string): string {
  // Index names share the 63-character limit; the table's hash keeps long ones unique.
  const name = `idx_${table}_${suffix}`;
  if (name.length <= 63) return assertIdentifier(name);
  const hash = createHash('md5').update(table).digest('hex').slice(0, 8);
  return assertIdentifier(`idx_${table.slice(0, 63 - 6 - suffix.length - 9)}_${hash}_${suffix}`);
}

/** The SQL expression the similarity query must use for the index to apply. */
export function vectorExpression(vector: Pick<VectorConfig, 'indexType' | 'dimension'>): string {
  return vector.indexType === 'HNSW_HALFVEC'
    ? `content_vector::halfvec(${vector.dimension})`
    : 'content_vector';
}

/** The type a query vector is cast to, matching {@link vectorExpression}. */
export function queryVectorCast(vector: Pick<VectorConfig, 'indexType' | 'dimension'>): string {
  return vector.indexType === 'HNSW_HALFVEC'
    ? `halfvec(${vector.dimension})`
    : `vector(${vector.dimension})`;
}

function vectorIndexDdl(namespace: VectorNamespace, table: string, vector: VectorConfig): string {
  const secondary = {
    chunks: `CREATE INDEX IF NOT EXISTS ${indexName(table, 'doc')} ON ${table} (workspace, full_doc_id);`,
    entities: `CREATE INDEX IF NOT EXISTS ${indexName(table, 'name')} ON ${table} (workspace, entity_name);`,
    relationships: `CREATE INDEX IF NOT EXISTS ${indexName(table, 'src')} ON ${table} (workspace, source_id);
CREATE INDEX IF NOT EXISTS ${indexName(table, 'tgt')} ON ${table} (workspace, target_id);`,
  }[namespace];
  const hnsw = `WITH (m = ${vector.hnswM}, ef_construction = ${vector.hnswEfConstruction})`;
  const ann = {
    HNSW: `CREATE INDEX IF NOT EXISTS ${indexName(table, 'hnsw_cosine')} ON ${table} USING hnsw (content_vector vector_cosine_ops) ${hnsw};`,
    HNSW_HALFVEC: `CREATE INDEX IF NOT EXISTS ${indexName(table, 'hnsw_half_cosine')} ON ${table} USING hnsw ((${vectorExpression(vector)}) halfvec_cosine_ops) ${hnsw};`,
    IVFFLAT: `CREATE INDEX IF NOT EXISTS ${indexName(table, 'ivfflat_cosine')} ON ${table} USING ivfflat (content_vector vector_cosine_ops) WITH (lists = ${vector.ivfflatLists});`,
    NONE: '',
  }[vector.indexType];
  return `\n${secondary}\n${ann}`;
}

export interface SchemaPlan {
  /** Marker id: the version and a hash of every statement below. */
  key: string;
  vectorTables: Record<VectorNamespace, string>;
  tablesDdl: string;
  indexesDdl: string;
}

/** The statements this configuration needs, and the marker that says they have run. */
export function planSchema(vector: VectorConfig): SchemaPlan {
  const namespaces = Object.keys(VECTOR_BASE_TABLES) as VectorNamespace[];
  const vectorTables = Object.fromEntries(
    namespaces.map((ns) => [ns, vectorTableName(ns, vector)]),
  ) as Record<VectorNamespace, string>;
  const tablesDdl =
    CORE_TABLES +
    namespaces.map((ns) => vectorTableDdl(ns, vectorTables[ns], vector.dimension)).join('');
  const indexesDdl =
    CORE_INDEXES + namespaces.map((ns) => vectorIndexDdl(ns, vectorTables[ns], vector)).join('');
  const hash = createHash('md5').update(tablesDdl).update(indexesDdl).digest('hex');
  return { key: `v${SCHEMA_VERSION}:${hash}`, vectorTables, tablesDdl, indexesDdl };
}

export interface SchemaResult {
  key: string;
  /** False when the marker showed the schema was already in place (the warm path). */
  applied: boolean;
  vectorTables: Record<VectorNamespace, string>;
}

const ensured = new WeakMap<Database, Map<string, Promise<SchemaResult>>>();

/**
 * Creates the schema once per container and configuration; later calls share the first
 * call's promise. A failure is not memoised, so the next invocation tries again.
 */
export function ensureSchema(db: Database, vector: VectorConfig): Promise<SchemaResult> {
  const plan = planSchema(vector);
  let perDb = ensured.get(db);
  if (!perDb) {
    perDb = new Map();
    ensured.set(db, perDb);
  }
  let pending = perDb.get(plan.key);
  if (!pending) {
    pending = applySchema(db, plan, vector).catch((err: unknown) => {
      perDb.delete(plan.key);
      throw err;
    });
    perDb.set(plan.key, pending);
  }
  return pending;
}

/** Applies the plan now, skipping the DDL when the marker row exists. Not memoised. */
export async function applySchema(
  db: Database,
  plan: SchemaPlan,
  vector: VectorConfig,
): Promise<SchemaResult> {
  const result = { key: plan.key, vectorTables: plan.vectorTables };
  if (await markerExists(db, plan.key)) return { ...result, applied: false };
  return db.withTransaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    // Another container may have finished while this one waited for the lock. The marker table
    // is created first (not probed with to_regclass, whose catalog view can be stale here), so
    // the lookup cannot fail and abort the transaction.
    await tx.query(MARKER_TABLE);
    if (await markerExists(tx, plan.key)) return { ...result, applied: false };
    await createExtension(tx);
    await tx.query(plan.tablesDdl);
    await checkVectorColumns(tx, plan, vector);
    await tx.query(plan.indexesDdl);
    await tx.query(
      `INSERT INTO ${TABLES.schemaMarker} (id, version, detail) VALUES ($1, $2, $3::jsonb) ON CONFLICT (id) DO NOTHING`,
      [plan.key, SCHEMA_VERSION, JSON.stringify({ vectorTables: plan.vectorTables, vector })],
    );
    return { ...result, applied: true };
  });
}

/** One statement: the marker row, or false when the marker table does not exist yet. */
async function markerExists(db: Queryable, key: string): Promise<boolean> {
  try {
    const marker = await db.query(`SELECT 1 FROM ${TABLES.schemaMarker} WHERE id = $1`, [key]);
    return marker.rowCount > 0;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return false; // undefined_table: empty database
    throw err;
  }
}

async function createExtension(tx: Queryable): Promise<void> {
  try {
    await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (err) {
    throw new SchemaError(
      'The pgvector extension is not available on this PostgreSQL server. On Neon it is built in; ' +
        'elsewhere install pgvector (this repository: scripts/setup-pgvector.sh) or ask the administrator to.',
      {},
      { cause: err },
    );
  }
}

/** Refuses a vector column of another dimension, or one without a fixed dimension. */
async function checkVectorColumns(
  tx: Queryable,
  plan: SchemaPlan,
  vector: VectorConfig,
): Promise<void> {
  const tables = Object.values(plan.vectorTables);
  const { rows } = await tx.query<{ table_name: string; dims: number; type_name: string }>(
    `SELECT c.relname AS table_name, a.atttypmod AS dims, format_type(a.atttypid, NULL) AS type_name
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relname = ANY($1::text[]) AND a.attname = 'content_vector' AND NOT a.attisdropped
        AND c.relnamespace = current_schema()::regnamespace`,
    [tables],
  );
  for (const row of rows) {
    if (row.type_name !== 'vector' || row.dims <= 0) {
      throw new SchemaError(
        `Table ${row.table_name} has a content_vector column of type ${row.type_name} without a fixed dimension, ` +
          `so no vector index can serve it. Convert it with ALTER TABLE ${row.table_name} ALTER COLUMN content_vector ` +
          `TYPE vector(${vector.dimension}), or set EMBEDDING_MODEL to use model-suffixed tables.`,
        { table: row.table_name },
      );
    }
    if (row.dims !== vector.dimension) {
      throw new DimensionMismatchError(
        `Table ${row.table_name} stores ${row.dims}-dimension vectors but EMBEDDING_DIM is ${vector.dimension}. ` +
          `Set EMBEDDING_DIM=${row.dims} to keep using it, or set EMBEDDING_MODEL so this model gets its own ` +
          'tables (name_{model}_{dim}d). Nothing was changed.',
        { expected: vector.dimension, actual: row.dims, table: row.table_name },
      );
    }
  }
}
