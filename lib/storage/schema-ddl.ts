/**
 * What the schema is: LightRAG's tables as column lists (so a missing column can be added in
 * place), their indexes, the graph-degree triggers, and the vector tables of this configuration.
 * lib/storage/schema.ts compares this with the catalog and applies it.
 */
import { createHash } from 'node:crypto';
import type { VectorConfig } from '../config.ts';
import { GRAPH_NAMESPACE } from '../lightrag-constants.ts';
import { WORKSPACE_PATTERN } from '../workspace.ts';
import {
  assertIdentifier,
  TABLES,
  VECTOR_BASE_TABLES,
  type VectorNamespace,
  vectorTableName,
} from './tables.ts';

/** Bumped when the DDL changes in a way the hash alone should not decide. */
export const SCHEMA_VERSION = 3;

/** A table as a list of columns, so that a missing one can be added with ADD COLUMN. */
export interface TableSpec {
  name: string;
  columns: Array<[name: string, definition: string]>;
  constraints: string[];
}

/** How a vector table stores its vectors: pgvector `vector`, or `halfvec` (LightRAG's HNSW_HALFVEC). */
export type VectorColumnType = 'vector' | 'halfvec';

const TIMESTAMPS: TableSpec['columns'] = [
  ['create_time', 'TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP'],
  ['update_time', 'TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP'],
];
const pk = (table: string, columns = 'workspace, id') =>
  `CONSTRAINT ${assertIdentifier(`${table.slice(0, 60)}_pk`)} PRIMARY KEY (${columns})`;
const kvTable = (name: string, columns: TableSpec['columns']): TableSpec => ({
  name,
  columns: [['id', 'VARCHAR(255)'], ['workspace', 'VARCHAR(255)'], ...columns, ...TIMESTAMPS],
  constraints: [pk(name)],
});
const chunkListTable = (name: string, listColumn: string): TableSpec => ({
  name,
  columns: [
    [
      'id',
      name === TABLES.entityChunks || name === TABLES.relationChunks
        ? 'VARCHAR(512)'
        : 'VARCHAR(255)',
    ],
    ['workspace', 'VARCHAR(255)'],
    [listColumn, 'JSONB'],
    ['count', 'INTEGER'],
    ...TIMESTAMPS,
  ],
  constraints: [pk(name)],
});

export const CORE_TABLES: TableSpec[] = [
  // LightRAG 1.5's pipeline columns (LIGHTRAG-1.5.md §1.1, §1.2): nullable, LightRAG's defaults.
  kvTable(TABLES.fullDocs, [
    ['doc_name', 'VARCHAR(1024)'],
    ['content', 'TEXT'],
    ['meta', 'JSONB'],
    ['sidecar_location', 'TEXT NULL'],
    ['parse_format', "VARCHAR(32) NULL DEFAULT 'raw'"],
    ['content_hash', 'TEXT NULL'],
    ['process_options', 'TEXT NULL'],
    ['chunk_options', "JSONB NULL DEFAULT '{}'::jsonb"],
    ['parse_engine', 'TEXT NULL'],
  ]),
  kvTable(TABLES.textChunks, [
    ['full_doc_id', 'VARCHAR(256)'],
    ['chunk_order_index', 'INTEGER'],
    ['tokens', 'INTEGER'],
    ['content', 'TEXT'],
    ['file_path', 'TEXT NULL'],
    ['llm_cache_list', "JSONB NULL DEFAULT '[]'::jsonb"],
    ['heading', "JSONB NULL DEFAULT '{}'::jsonb"],
    ['sidecar', "JSONB NULL DEFAULT '{}'::jsonb"],
  ]),
  {
    name: TABLES.llmCache,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      ['id', 'VARCHAR(255) NOT NULL'],
      ['original_prompt', 'TEXT'],
      ['return_value', 'TEXT'],
      ['chunk_id', 'VARCHAR(255) NULL'],
      ['cache_type', 'VARCHAR(32)'],
      ['queryparam', 'JSONB NULL'],
      // Microseconds, as LightRAG 1.5 creates them (§1.7).
      ['create_time', 'TIMESTAMP DEFAULT CURRENT_TIMESTAMP'],
      ['update_time', 'TIMESTAMP DEFAULT CURRENT_TIMESTAMP'],
    ],
    constraints: [pk(TABLES.llmCache)],
  },
  {
    name: TABLES.docStatus,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      ['id', 'VARCHAR(255) NOT NULL'],
      ['content_summary', 'VARCHAR(255) NULL'],
      ['content_length', 'INT4 NULL'],
      ['chunks_count', 'INT4 NULL'],
      ['status', 'VARCHAR(64) NULL'],
      ['file_path', 'TEXT NULL'],
      ['chunks_list', "JSONB NULL DEFAULT '[]'::jsonb"],
      ['track_id', 'VARCHAR(255) NULL'],
      ['metadata', "JSONB NULL DEFAULT '{}'::jsonb"],
      ['error_msg', 'TEXT NULL'],
      ['content_hash', 'TEXT NULL'],
      ['created_at', 'TIMESTAMP DEFAULT CURRENT_TIMESTAMP'],
      ['updated_at', 'TIMESTAMP DEFAULT CURRENT_TIMESTAMP'],
    ],
    constraints: [pk(TABLES.docStatus)],
  },
  chunkListTable(TABLES.fullEntities, 'entity_names'),
  chunkListTable(TABLES.fullRelations, 'relation_pairs'),
  chunkListTable(TABLES.entityChunks, 'chunk_ids'),
  chunkListTable(TABLES.relationChunks, 'chunk_ids'),
  // LightRAG 1.5's PGTableGraphStorage tables (LIGHTRAG-1.5.md §3.1): TEXT ids, timestamptz,
  // unnamed primary keys (PostgreSQL names them `…_pkey`, the names LightRAG looks up) and its
  // foreign-key names, so LightRAG's graph storage starts on a database created here.
  {
    name: TABLES.graphNodes,
    columns: [
      ['workspace', 'TEXT NOT NULL'],
      ['namespace', `TEXT NOT NULL DEFAULT '${GRAPH_NAMESPACE}'`],
      ['id', 'TEXT NOT NULL'],
      ['properties', "JSONB NOT NULL DEFAULT '{}'::jsonb"],
      ['updated_at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
      // Incident edges (a self-loop counts twice, as LightRAG counts), kept by the triggers below
      // so traversal can rank a hub's neighbours without counting each one's edges; backfilled
      // whenever the triggers are (re)created, so rows written without them are counted too.
      // Unindexed on purpose: the triggers' updates stay HOT.
      ['degree', 'INTEGER NOT NULL DEFAULT 0'],
    ],
    constraints: ['PRIMARY KEY (workspace, namespace, id)'],
  },
  {
    name: TABLES.graphEdges,
    columns: [
      ['workspace', 'TEXT NOT NULL'],
      ['namespace', `TEXT NOT NULL DEFAULT '${GRAPH_NAMESPACE}'`],
      ['src_id', 'TEXT NOT NULL'],
      ['tgt_id', 'TEXT NOT NULL'],
      ['properties', "JSONB NOT NULL DEFAULT '{}'::jsonb"],
      ['updated_at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
    ],
    constraints: [
      'PRIMARY KEY (workspace, namespace, src_id, tgt_id)',
      // Undirected edges are stored once, ends in code-point order ("C" collation = UTF-8 byte
      // order = Python's str order), as LightRAG stores them.
      'CONSTRAINT lightrag_graph_edges_canonical CHECK (src_id COLLATE "C" <= tgt_id COLLATE "C")',
      `CONSTRAINT fk_lightrag_graph_edges_src FOREIGN KEY (workspace, namespace, src_id)
    REFERENCES ${TABLES.graphNodes} (workspace, namespace, id) ON DELETE CASCADE`,
      `CONSTRAINT fk_lightrag_graph_edges_tgt FOREIGN KEY (workspace, namespace, tgt_id)
    REFERENCES ${TABLES.graphNodes} (workspace, namespace, id) ON DELETE CASCADE`,
    ],
  },
];

/**
 * This project's own tables (LightRAG never reads them): a document whose extraction is fanned
 * out across containers has a run, and the run a row per chunk batch (lib/pipeline/fan-out.ts).
 */
export const EXTRACTION_TABLES: TableSpec[] = [
  {
    name: TABLES.extractionRuns,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      ['doc_id', 'VARCHAR(255) NOT NULL'],
      ['run_id', 'VARCHAR(64) NOT NULL'],
      ['batches', 'INTEGER NOT NULL'],
      ['chunks', 'INTEGER NOT NULL'],
      // waiting → queued (the merge message sent) → merging (claimed by one message) → done
      ['merge_state', "VARCHAR(16) NOT NULL DEFAULT 'waiting'"],
      ['merge_message_id', 'VARCHAR(128) NULL'],
      ['created_at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
      ['updated_at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
    ],
    constraints: ['PRIMARY KEY (workspace, doc_id)'],
  },
  {
    name: TABLES.extractionBatches,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      ['doc_id', 'VARCHAR(255) NOT NULL'],
      ['batch_index', 'INTEGER NOT NULL'],
      ['run_id', 'VARCHAR(64) NOT NULL'],
      ['chunk_ids', 'JSONB NOT NULL'],
      // sent → extracted | failed
      ['status', "VARCHAR(16) NOT NULL DEFAULT 'sent'"],
      ['error_msg', 'TEXT NULL'],
      ['updated_at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
    ],
    constraints: ['PRIMARY KEY (workspace, doc_id, batch_index)'],
  },
  {
    name: TABLES.graphUpkeep,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      // entity | relation (target empty for an entity)
      ['kind', 'VARCHAR(16) NOT NULL'],
      ['source', 'TEXT NOT NULL'],
      ['target', 'TEXT NOT NULL'],
      // Set while the element's summary or vector is due; NULL while only leased.
      ['due_at', 'TIMESTAMPTZ NULL'],
      ['lease_owner', 'VARCHAR(64) NULL'],
      ['lease_until', 'TIMESTAMPTZ NULL'],
    ],
    constraints: ['PRIMARY KEY (workspace, kind, source, target)'],
  },
  {
    name: TABLES.usage,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      ['day', 'DATE NOT NULL'],
      // extract, summary, keywords, answer, embedding
      ['purpose', 'VARCHAR(32) NOT NULL'],
      ['model', 'VARCHAR(255) NOT NULL'],
      ['calls', 'BIGINT NOT NULL DEFAULT 0'],
      ['cache_hits', 'BIGINT NOT NULL DEFAULT 0'],
      ['prompt_tokens', 'BIGINT NOT NULL DEFAULT 0'],
      ['completion_tokens', 'BIGINT NOT NULL DEFAULT 0'],
      ['updated_at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
    ],
    constraints: ['PRIMARY KEY (workspace, day, purpose, model)'],
  },
  {
    name: TABLES.loginFailures,
    columns: [
      // SHA-256 of what is counted (a user name and address, or an address): no names at rest.
      ['key', 'VARCHAR(64) NOT NULL'],
      ['window_start', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
      ['failures', 'INTEGER NOT NULL DEFAULT 0'],
    ],
    constraints: ['PRIMARY KEY (key)'],
  },
  {
    name: TABLES.pipelineEvents,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      ['id', 'BIGINT GENERATED ALWAYS AS IDENTITY'],
      ['at', 'TIMESTAMPTZ NOT NULL DEFAULT now()'],
      ['message', 'TEXT NOT NULL'],
    ],
    // The newest events of a workspace, read and trimmed by this key.
    constraints: ['PRIMARY KEY (workspace, id)'],
  },
  {
    name: TABLES.pipelineControl,
    columns: [
      ['workspace', 'VARCHAR(255) NOT NULL'],
      // Documents submitted before this are cancelled (LightRAG's cancel_pipeline).
      ['cancel_requested_at', 'TIMESTAMPTZ NULL'],
    ],
    constraints: ['PRIMARY KEY (workspace)'],
  },
];

/**
 * Statement-level triggers over the transition table: one UPDATE per touched node however many
 * edges a statement wrote, in key order (the lock order every writer shares). An upsert that hits
 * an existing edge is an UPDATE and leaves degrees alone; cascade-deleted edges lower their ends.
 */
export const TRIGGERS = ['lightrag_graph_edges_added', 'lightrag_graph_edges_removed'];
export const TRIGGERS_DDL = `
CREATE OR REPLACE FUNCTION lightrag_graph_degree_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
  r record;
BEGIN
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

/** Recounts every node's degree from its edges (after rows were written without the triggers). */
export const DEGREE_BACKFILL = [
  `WITH counted AS (
     SELECT workspace, namespace, id, count(*)::int AS c FROM (
       SELECT workspace, namespace, src_id AS id FROM ${TABLES.graphEdges}
       UNION ALL SELECT workspace, namespace, tgt_id FROM ${TABLES.graphEdges}) ends
     GROUP BY workspace, namespace, id)
   UPDATE ${TABLES.graphNodes} n SET degree = counted.c FROM counted
    WHERE n.workspace = counted.workspace AND n.namespace = counted.namespace AND n.id = counted.id
      AND n.degree <> counted.c`,
  `UPDATE ${TABLES.graphNodes} n SET degree = 0 WHERE degree <> 0 AND NOT EXISTS (
     SELECT 1 FROM ${TABLES.graphEdges} e WHERE e.workspace = n.workspace AND e.namespace = n.namespace
       AND (e.src_id = n.id OR e.tgt_id = n.id))`,
];

/** What the catalog holds of the plan's tables (lib/storage/schema.ts reads it in one query). */
export interface CatalogState {
  /** table → column → `format_type` (e.g. `character varying(255)`). */
  columns: Map<string, Map<string, string>>;
  /** constraint name → `pg_get_constraintdef`. */
  constraints: Map<string, string>;
  indexes: Set<string>;
}

/**
 * In-place upgrades of databases made by earlier versions of this project. Each says whether a
 * catalog needs it and which statements apply it; none drops data.
 */
export interface Upgrade {
  name: string;
  statements(state: CatalogState): string[];
}

/** Index names of schema version 2 → LightRAG 1.5's names for the same index (§1.6). */
const INDEX_RENAMES: Array<[from: string, to: string]> = [
  ['idx_lightrag_doc_status_status_updated', 'idx_lightrag_doc_status_workspace_status_updated_at'],
  ['idx_lightrag_doc_status_status_created', 'idx_lightrag_doc_status_workspace_status_created_at'],
  ['idx_lightrag_doc_status_updated', 'idx_lightrag_doc_status_workspace_updated_at'],
  ['idx_lightrag_doc_status_created', 'idx_lightrag_doc_status_workspace_created_at'],
  ['idx_lightrag_doc_status_file_path', 'idx_lightrag_doc_status_workspace_file_path'],
  ['idx_lightrag_graph_edges_tgt', 'idx_lightrag_graph_edges_namespace_tgt'],
];

const GRAPH_RENAMES: Array<[table: string, from: string, to: string]> = [
  [TABLES.graphNodes, 'lightrag_graph_nodes_pk', 'lightrag_graph_nodes_pkey'],
  [TABLES.graphEdges, 'lightrag_graph_edges_pk', 'lightrag_graph_edges_pkey'],
  [TABLES.graphEdges, 'lightrag_graph_edges_src_fk', 'fk_lightrag_graph_edges_src'],
  [TABLES.graphEdges, 'lightrag_graph_edges_tgt_fk', 'fk_lightrag_graph_edges_tgt'],
];

/** Graph columns as LightRAG types them. */
const GRAPH_TYPES: Array<[table: string, column: string, type: string]> = [
  ...['workspace', 'namespace', 'id'].map(
    (c) => [TABLES.graphNodes, c, 'text'] as [string, string, string],
  ),
  ...['workspace', 'namespace', 'src_id', 'tgt_id'].map(
    (c) => [TABLES.graphEdges, c, 'text'] as [string, string, string],
  ),
  [TABLES.graphNodes, 'updated_at', 'timestamp with time zone'],
  [TABLES.graphEdges, 'updated_at', 'timestamp with time zone'],
];

export const UPGRADES: Upgrade[] = [
  {
    name: "graph constraints under LightRAG's names",
    statements: (state) =>
      GRAPH_RENAMES.filter(([, from]) => state.constraints.has(from)).map(
        ([table, from, to]) => `ALTER TABLE ${table} RENAME CONSTRAINT ${from} TO ${to}`,
      ),
  },
  {
    name: "graph columns of LightRAG's types",
    statements: (state) =>
      GRAPH_TYPES.filter(([table, column, type]) => {
        const found = state.columns.get(table)?.get(column);
        return found !== undefined && found !== type;
      }).flatMap(([table, column, type]) =>
        type === 'text'
          ? [
              `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE TEXT`,
              ...(column === 'namespace'
                ? [`ALTER TABLE ${table} ALTER COLUMN namespace SET DEFAULT '${GRAPH_NAMESPACE}'`]
                : []),
            ]
          : [
              // Earlier versions wrote naive UTC.
              `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE TIMESTAMPTZ USING ${column} AT TIME ZONE 'UTC'`,
              `UPDATE ${table} SET ${column} = now() WHERE ${column} IS NULL`,
              `ALTER TABLE ${table} ALTER COLUMN ${column} SET DEFAULT now(), ALTER COLUMN ${column} SET NOT NULL`,
            ],
      ),
  },
  {
    name: 'self-loops allowed in the canonical-order check (LightRAG stores them)',
    statements: (state) =>
      /<=/.test(state.constraints.get('lightrag_graph_edges_canonical') ?? '<=')
        ? []
        : [
            `ALTER TABLE ${TABLES.graphEdges} DROP CONSTRAINT lightrag_graph_edges_canonical`,
            `ALTER TABLE ${TABLES.graphEdges} ADD CONSTRAINT lightrag_graph_edges_canonical CHECK (src_id COLLATE "C" <= tgt_id COLLATE "C")`,
          ],
  },
  {
    // timestamp(0) → timestamp only widens the type modifier: no table rewrite.
    name: 'microsecond timestamps on doc status and LLM cache (LightRAG 1.5)',
    statements: (state) =>
      (
        [
          [TABLES.docStatus, 'created_at'],
          [TABLES.docStatus, 'updated_at'],
          [TABLES.llmCache, 'create_time'],
          [TABLES.llmCache, 'update_time'],
        ] as const
      )
        .filter(
          ([table, column]) =>
            state.columns.get(table)?.get(column) === 'timestamp(0) without time zone',
        )
        .map(([table, column]) => `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE TIMESTAMP`),
  },
  {
    name: "indexes under LightRAG's names",
    // Renamed, or dropped when LightRAG already made its own under the new name.
    statements: (state) =>
      INDEX_RENAMES.filter(([from]) => state.indexes.has(from)).map(([from, to]) =>
        state.indexes.has(to) ? `DROP INDEX ${from}` : `ALTER INDEX ${from} RENAME TO ${to}`,
      ),
  },
];

export const MARKER_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLES.schemaMarker} (
  id VARCHAR(255) PRIMARY KEY, version INTEGER NOT NULL, detail JSONB,
  applied_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP)`;

/** One index the schema creates. */
export interface IndexSpec {
  name: string;
  table: string;
  sql: string;
}

const index = (name: string, table: string, body: string): IndexSpec => ({
  name: assertIdentifier(name),
  table,
  sql: `CREATE INDEX IF NOT EXISTS ${name} ON ${table} ${body}`,
});

const CORE_INDEXES: IndexSpec[] = [
  index('idx_lightrag_doc_chunks_full_doc_id', TABLES.textChunks, '(workspace, full_doc_id)'),
  index('idx_lightrag_llm_cache_chunk_id', TABLES.llmCache, '(workspace, chunk_id)'),
  index(
    'idx_lightrag_doc_status_workspace_status_updated_at',
    TABLES.docStatus,
    '(workspace, status, updated_at DESC)',
  ),
  index(
    'idx_lightrag_doc_status_workspace_status_created_at',
    TABLES.docStatus,
    '(workspace, status, created_at DESC)',
  ),
  index(
    'idx_lightrag_doc_status_workspace_updated_at',
    TABLES.docStatus,
    '(workspace, updated_at DESC)',
  ),
  index(
    'idx_lightrag_doc_status_workspace_created_at',
    TABLES.docStatus,
    '(workspace, created_at DESC)',
  ),
  index('idx_lightrag_doc_status_workspace_file_path', TABLES.docStatus, '(workspace, file_path)'),
  index('idx_lightrag_doc_status_track_id', TABLES.docStatus, '(workspace, track_id)'),
  index(
    'idx_lightrag_doc_status_workspace_content_hash',
    TABLES.docStatus,
    "(workspace, content_hash) WHERE content_hash IS NOT NULL AND content_hash <> ''",
  ),
  // LightRAG's index names (it looks them up by name); src_id added so a hop is index-only.
  index(
    'idx_lightrag_graph_edges_namespace_tgt',
    TABLES.graphEdges,
    '(workspace, namespace, tgt_id, src_id)',
  ),
  index(
    'idx_lightrag_graph_edges_noncanonical',
    TABLES.graphEdges,
    '(workspace, namespace) WHERE src_id COLLATE "C" > tgt_id COLLATE "C"',
  ),
];

function vectorTableSpec(namespace: VectorNamespace, table: string, dim: number): TableSpec {
  const vector: [string, string] = ['content_vector', `VECTOR(${dim})`];
  const columns: Record<VectorNamespace, TableSpec['columns']> = {
    chunks: [
      ['full_doc_id', 'VARCHAR(256)'],
      ['chunk_order_index', 'INTEGER'],
      ['tokens', 'INTEGER'],
      ['content', 'TEXT'],
      vector,
      ['file_path', 'TEXT NULL'],
    ],
    entities: [
      ['entity_name', 'VARCHAR(512)'],
      ['content', 'TEXT'],
      vector,
      ['chunk_ids', 'VARCHAR(255)[] NULL'],
      ['file_path', 'TEXT NULL'],
    ],
    relationships: [
      ['source_id', 'VARCHAR(512)'],
      ['target_id', 'VARCHAR(512)'],
      ['content', 'TEXT'],
      vector,
      ['chunk_ids', 'VARCHAR(255)[] NULL'],
      ['file_path', 'TEXT NULL'],
    ],
  };
  return kvTable(table, columns[namespace]);
}

function indexName(table: string, suffix: string): string {
  // Index names share the 63-character limit; the table's hash keeps long ones unique.
  const name = `idx_${table}_${suffix}`;
  if (name.length <= 63) return assertIdentifier(name);
  const hash = createHash('md5').update(table).digest('hex').slice(0, 8);
  return assertIdentifier(`idx_${table.slice(0, 63 - 6 - suffix.length - 9)}_${hash}_${suffix}`);
}

/** How queries and indexes address one vector table's column. */
export interface VectorLayout {
  /** The SQL expression the similarity query orders by (the one the index is built on). */
  expression: string;
  /** The type a query vector is cast to. */
  cast: string;
}

/**
 * The layout for a table: a `halfvec` column (LightRAG's HNSW_HALFVEC tables) is used as it is;
 * a `vector` column under HNSW_HALFVEC is indexed and searched through a `halfvec` cast.
 */
export function vectorLayout(
  vector: Pick<VectorConfig, 'indexType' | 'dimension'>,
  column: VectorColumnType = 'vector',
): VectorLayout {
  const half = `halfvec(${vector.dimension})`;
  if (column === 'halfvec') return { expression: 'content_vector', cast: half };
  return vector.indexType === 'HNSW_HALFVEC'
    ? { expression: `content_vector::${half}`, cast: half }
    : { expression: 'content_vector', cast: `vector(${vector.dimension})` };
}

function vectorIndexes(
  namespace: VectorNamespace,
  table: string,
  vector: VectorConfig,
  column: VectorColumnType,
): IndexSpec[] {
  const secondary = {
    chunks: [index(indexName(table, 'doc'), table, '(workspace, full_doc_id)')],
    entities: [index(indexName(table, 'name'), table, '(workspace, entity_name)')],
    relationships: [
      index(indexName(table, 'src'), table, '(workspace, source_id)'),
      index(indexName(table, 'tgt'), table, '(workspace, target_id)'),
    ],
  }[namespace];
  const hnsw = `WITH (m = ${vector.hnswM}, ef_construction = ${vector.hnswEfConstruction})`;
  const { expression } = vectorLayout(vector, column);
  const ops = column === 'halfvec' || vector.indexType === 'HNSW_HALFVEC' ? 'halfvec' : 'vector';
  // A halfvec column (LightRAG's HNSW_HALFVEC) gets LightRAG's own index name, so an index
  // LightRAG built is reused.
  const halfvecColumn = index(
    indexName(table, 'hnsw_halfvec_cosine'),
    table,
    `USING hnsw (content_vector halfvec_cosine_ops) ${hnsw}`,
  );
  const ann = {
    HNSW:
      column === 'halfvec'
        ? halfvecColumn
        : index(
            indexName(table, 'hnsw_cosine'),
            table,
            `USING hnsw (content_vector vector_cosine_ops) ${hnsw}`,
          ),
    HNSW_HALFVEC:
      column === 'halfvec'
        ? halfvecColumn
        : index(
            indexName(table, 'hnsw_half_cosine'),
            table,
            `USING hnsw ((${expression}) halfvec_cosine_ops) ${hnsw}`,
          ),
    IVFFLAT: index(
      indexName(table, 'ivfflat_cosine'),
      table,
      `USING ivfflat (${expression} ${ops}_cosine_ops) WITH (lists = ${vector.ivfflatLists})`,
    ),
    NONE: undefined,
  }[vector.indexType];
  // One partial HNSW index per listed workspace: the planner uses it for `workspace = $1` with
  // that value (node-postgres plans each statement with its parameters).
  const partial = (vector.partialIndexWorkspaces ?? []).map((ws) =>
    index(
      indexName(table, `ws_${createHash('md5').update(ws).digest('hex').slice(0, 10)}_hnsw`),
      table,
      `USING hnsw (${column === 'halfvec' ? 'content_vector' : `(${expression})`} ${ops}_cosine_ops) ${hnsw} WHERE workspace = '${assertWorkspaceLiteral(ws)}'`,
    ),
  );
  return [...secondary, ...(ann ? [ann] : []), ...(ann ? partial : [])];
}

/** A workspace written into DDL (an index predicate): the strict pattern, or a refusal. */
function assertWorkspaceLiteral(ws: string): string {
  if (!WORKSPACE_PATTERN.test(ws))
    throw new Error(`Refusing workspace ${JSON.stringify(ws)} in DDL`);
  return ws;
}

/** Every statement of the schema for a vector configuration, and its marker. */
export interface SchemaPlan {
  /** Marker id: the version and a hash of every statement. */
  key: string;
  vectorTables: Record<VectorNamespace, string>;
  vectorColumns: Record<VectorNamespace, VectorColumnType>;
  tables: TableSpec[];
  indexes: IndexSpec[];
}

/**
 * The schema this configuration needs. `columns` gives the vector column type of tables that
 * already exist (a LightRAG `halfvec` table is kept as it is); new tables get `vector`.
 */
export function planSchema(
  vector: VectorConfig,
  columns: Partial<Record<string, VectorColumnType>> = {},
): SchemaPlan {
  const namespaces = Object.keys(VECTOR_BASE_TABLES) as VectorNamespace[];
  const vectorTables = Object.fromEntries(
    namespaces.map((ns) => [ns, vectorTableName(ns, vector)]),
  ) as Record<VectorNamespace, string>;
  const vectorColumns = Object.fromEntries(
    namespaces.map((ns) => [ns, columns[vectorTables[ns]] ?? 'vector']),
  ) as Record<VectorNamespace, VectorColumnType>;
  const tables = [
    ...CORE_TABLES,
    ...EXTRACTION_TABLES,
    ...namespaces.map((ns) => vectorTableSpec(ns, vectorTables[ns], vector.dimension)),
  ];
  const indexes = [
    ...CORE_INDEXES,
    ...namespaces.flatMap((ns) => vectorIndexes(ns, vectorTables[ns], vector, vectorColumns[ns])),
  ];
  const hash = createHash('md5')
    .update(JSON.stringify(tables))
    .update(JSON.stringify(indexes))
    .update(TRIGGERS_DDL)
    .digest('hex');
  return { key: `v${SCHEMA_VERSION}:${hash}`, vectorTables, vectorColumns, tables, indexes };
}

/** `CREATE TABLE IF NOT EXISTS` for a spec. */
export function createTableSql(table: TableSpec): string {
  const lines = [...table.columns.map(([n, d]) => `${n} ${d}`), ...table.constraints];
  return `CREATE TABLE IF NOT EXISTS ${table.name} (\n  ${lines.join(',\n  ')})`;
}
