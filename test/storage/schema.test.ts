import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { DimensionMismatchError, SchemaError } from '../../lib/errors.ts';
import { applySchema, ensureSchema } from '../../lib/storage/schema.ts';
import { VectorStorage } from '../../lib/storage/vector.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';

/** LightRAG's columns per table (name → Postgres type), the compatibility contract. */
const LIGHTRAG_COLUMNS: Record<string, Record<string, string>> = {
  lightrag_doc_full: {
    id: 'character varying(255)',
    workspace: 'character varying(255)',
    doc_name: 'character varying(1024)',
    content: 'text',
    meta: 'jsonb',
    sidecar_location: 'text',
    parse_format: 'character varying(32)',
    content_hash: 'text',
    process_options: 'text',
    chunk_options: 'jsonb',
    parse_engine: 'text',
    create_time: 'timestamp(0) without time zone',
    update_time: 'timestamp(0) without time zone',
  },
  lightrag_doc_chunks: {
    id: 'character varying(255)',
    workspace: 'character varying(255)',
    full_doc_id: 'character varying(256)',
    chunk_order_index: 'integer',
    tokens: 'integer',
    content: 'text',
    file_path: 'text',
    llm_cache_list: 'jsonb',
    heading: 'jsonb',
    sidecar: 'jsonb',
    create_time: 'timestamp(0) without time zone',
    update_time: 'timestamp(0) without time zone',
  },
  lightrag_vdb_chunks: {
    id: 'character varying(255)',
    workspace: 'character varying(255)',
    full_doc_id: 'character varying(256)',
    chunk_order_index: 'integer',
    tokens: 'integer',
    content: 'text',
    content_vector: 'vector(32)',
    file_path: 'text',
    create_time: 'timestamp(0) without time zone',
    update_time: 'timestamp(0) without time zone',
  },
  lightrag_vdb_entity: {
    id: 'character varying(255)',
    workspace: 'character varying(255)',
    entity_name: 'character varying(512)',
    content: 'text',
    content_vector: 'vector(32)',
    chunk_ids: 'character varying(255)[]',
    file_path: 'text',
    create_time: 'timestamp(0) without time zone',
    update_time: 'timestamp(0) without time zone',
  },
  lightrag_vdb_relation: {
    id: 'character varying(255)',
    workspace: 'character varying(255)',
    source_id: 'character varying(512)',
    target_id: 'character varying(512)',
    content: 'text',
    content_vector: 'vector(32)',
    chunk_ids: 'character varying(255)[]',
    file_path: 'text',
    create_time: 'timestamp(0) without time zone',
    update_time: 'timestamp(0) without time zone',
  },
  lightrag_llm_cache: {
    workspace: 'character varying(255)',
    id: 'character varying(255)',
    original_prompt: 'text',
    return_value: 'text',
    chunk_id: 'character varying(255)',
    cache_type: 'character varying(32)',
    queryparam: 'jsonb',
    create_time: 'timestamp without time zone',
    update_time: 'timestamp without time zone',
  },
  lightrag_doc_status: {
    workspace: 'character varying(255)',
    id: 'character varying(255)',
    content_summary: 'character varying(255)',
    content_length: 'integer',
    chunks_count: 'integer',
    status: 'character varying(64)',
    file_path: 'text',
    chunks_list: 'jsonb',
    track_id: 'character varying(255)',
    metadata: 'jsonb',
    error_msg: 'text',
    content_hash: 'text',
    created_at: 'timestamp without time zone',
    updated_at: 'timestamp without time zone',
  },
};

async function columnsOf(db: Database, table: string): Promise<Record<string, string>> {
  const { rows } = await db.query<{ attname: string; type: string }>(
    `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [table],
  );
  return Object.fromEntries(rows.map((r) => [r.attname, r.type]));
}

async function indexesOf(db: Database, table: string): Promise<string[]> {
  const { rows } = await db.query<{ indexdef: string }>(
    'SELECT indexdef FROM pg_indexes WHERE tablename = $1',
    [table],
  );
  return rows.map((r) => r.indexdef);
}

describe(`schema on ${TARGET}`, () => {
  it("creates LightRAG's tables with LightRAG's columns, keys and indexes", async () => {
    const target = await createTestDatabase();
    const db = target.open();
    const result = await ensureSchema(db, target.config.vector);
    assert.equal(result.applied, true);
    for (const [table, expected] of Object.entries(LIGHTRAG_COLUMNS)) {
      assert.deepEqual(await columnsOf(db, table), expected, table);
      const indexes = await indexesOf(db, table);
      assert.ok(
        indexes.some((d) => /UNIQUE INDEX .* \(workspace, id\)/.test(d)),
        `${table} primary key`,
      );
    }
    const status = (await indexesOf(db, 'lightrag_doc_status')).join('\n');
    assert.match(status, /\(workspace, status, updated_at DESC\)/);
    assert.match(status, /\(workspace, status, created_at DESC\)/);
    assert.match(status, /\(workspace, track_id\)/);
    for (const table of ['lightrag_vdb_chunks', 'lightrag_vdb_entity', 'lightrag_vdb_relation']) {
      assert.match(
        (await indexesOf(db, table)).join('\n'),
        /USING hnsw \(content_vector vector_cosine_ops\) WITH \(m='16', ef_construction='64'\)/,
      );
    }
  });

  it('takes the warm path on a second cold start: marker found, no DDL', async () => {
    const target = await createTestDatabase();
    const first = target.open();
    assert.equal((await ensureSchema(first, target.config.vector)).applied, true);
    // Another container (on PGlite, the same embedded database): the schema already there.
    const second = target.open();
    const before = second.stats().queries;
    const result = await applySchema(second, target.config.vector);
    assert.equal(result.applied, false);
    assert.equal(second.stats().queries - before, 1, 'one statement: the marker lookup');
    // Same container again: memoised, no query at all.
    const memoBefore = first.stats().queries;
    await ensureSchema(first, target.config.vector);
    assert.equal(first.stats().queries, memoBefore);
  });

  it('survives 20 containers cold-starting at once on an empty database', async () => {
    const target = await createTestDatabase();
    // applySchema, not the memoised ensureSchema: on PGlite all "containers" share one database.
    const containers = Array.from({ length: 20 }, () => target.open());
    const results = await Promise.all(
      containers.map((db) => applySchema(db, target.config.vector)),
    );
    assert.equal(results.filter((r) => r.applied).length, 1, 'exactly one container ran the DDL');
    const { rows } = await containers[0]!.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM lightrag_serverless_schema',
    );
    assert.equal(rows[0]!.n, 1);
  });

  it('refuses an existing vector column of another dimension, changing nothing', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await ensureSchema(db, target.config.vector);
    await db.query(
      "INSERT INTO lightrag_vdb_chunks (workspace, id, content, content_vector) VALUES ('w', 'keep', 'x', $1::vector)",
      [`[${Array(32).fill(0.5).join(',')}]`],
    );
    const other = loadConfig({ ...target.env, EMBEDDING_DIM: '64' });
    await assert.rejects(ensureSchema(db, other.vector), (err: Error) => {
      assert.ok(err instanceof DimensionMismatchError);
      assert.equal(err.details.expected, 64);
      assert.equal(err.details.actual, 32);
      assert.match(err.message, /Set EMBEDDING_DIM=32 .* or set EMBEDDING_MODEL/);
      return true;
    });
    assert.deepEqual(
      await columnsOf(db, 'lightrag_vdb_chunks').then((c) => c.content_vector),
      'vector(32)',
    );
    const { rows } = await db.query<{ id: string }>('SELECT id FROM lightrag_vdb_chunks');
    assert.deepEqual(
      rows.map((r) => r.id),
      ['keep'],
    );
  });

  it('refuses a vector column without a fixed dimension', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await db.query('CREATE EXTENSION IF NOT EXISTS vector');
    await db.query(
      'CREATE TABLE lightrag_vdb_entity (id varchar(255), workspace varchar(255), content_vector vector)',
    );
    await assert.rejects(ensureSchema(db, target.config.vector), (err: Error) => {
      assert.ok(err instanceof SchemaError);
      assert.match(err.message, /without a fixed dimension/);
      return true;
    });
  });

  it('gives each embedding model its own suffixed tables, side by side', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await ensureSchema(db, target.config.vector);
    const suffixed = loadConfig({
      ...target.env,
      EMBEDDING_MODEL: 'text-embedding-3-large',
      EMBEDDING_DIM: '3072',
    });
    const result = await ensureSchema(db, suffixed.vector);
    assert.equal(result.vectorTables.chunks, 'lightrag_vdb_chunks_text_embedding_3_large_3072d');
    const columns = await columnsOf(db, result.vectorTables.entities);
    assert.equal(columns.content_vector, 'vector(3072)');
    // 3,072 dimensions: indexed as halfvec, since plain vector indexes stop at 2,000.
    assert.match(
      (await indexesOf(db, result.vectorTables.chunks)).join('\n'),
      /USING hnsw \(\(\(content_vector\)::halfvec\(3072\)\) halfvec_cosine_ops\)/,
    );
    assert.equal((await columnsOf(db, 'lightrag_vdb_chunks')).content_vector, 'vector(32)');
  });

  it('builds IVFFlat or no vector index when configured', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    const ivf = loadConfig({
      ...target.env,
      POSTGRES_VECTOR_INDEX_TYPE: 'IVFFLAT',
      POSTGRES_IVFFLAT_LISTS: '10',
      EMBEDDING_MODEL: 'ivf',
    });
    const ivfTables = await ensureSchema(db, ivf.vector);
    assert.match(
      (await indexesOf(db, ivfTables.vectorTables.chunks)).join('\n'),
      /USING ivfflat .* WITH \(lists='10'\)/,
    );
    const none = loadConfig({
      ...target.env,
      POSTGRES_VECTOR_INDEX_TYPE: 'NONE',
      EMBEDDING_MODEL: 'plain',
    });
    const noneTables = await ensureSchema(db, none.vector);
    assert.doesNotMatch(
      (await indexesOf(db, noneTables.vectorTables.chunks)).join('\n'),
      /hnsw|ivfflat/,
    );
  });

  it('heals what was dropped since: a table, a column, an index, a trigger (data kept)', async () => {
    const target = await createTestDatabase();
    const first = target.open();
    await ensureSchema(first, target.config.vector);
    await first.query(
      "INSERT INTO lightrag_doc_status (workspace, id, status, content_hash) VALUES ('w', 'keep', 'processed', 'h')",
    );
    // LightRAG 1.5 drops an empty legacy vector table when it starts with a model name.
    await first.query('DROP TABLE lightrag_vdb_chunks');
    await first.query('ALTER TABLE lightrag_doc_status DROP COLUMN track_id');
    await first.query('DROP INDEX idx_lightrag_llm_cache_chunk_id');
    await first.query('DROP TRIGGER lightrag_graph_edges_added ON lightrag_graph_edges');
    // The next cold start (another container) finds all of it missing despite the marker row.
    const second = target.open();
    const result = await applySchema(second, target.config.vector);
    assert.equal(result.applied, true);
    assert.deepEqual(result.repaired.sort(), [
      'column lightrag_doc_status.track_id',
      'index idx_lightrag_doc_status_track_id', // dropped with its column
      'index idx_lightrag_llm_cache_chunk_id',
      'index idx_lightrag_vdb_chunks_doc',
      'index idx_lightrag_vdb_chunks_hnsw_cosine',
      'table lightrag_vdb_chunks',
      'trigger lightrag_graph_edges_added',
    ]);
    assert.equal((await columnsOf(second, 'lightrag_vdb_chunks')).content_vector, 'vector(32)');
    assert.equal(
      (await columnsOf(second, 'lightrag_doc_status')).track_id,
      'character varying(255)',
    );
    assert.match((await indexesOf(second, 'lightrag_llm_cache')).join('\n'), /chunk_id/);
    const { rows } = await second.query<{ id: string; content_hash: string }>(
      'SELECT id, content_hash FROM lightrag_doc_status',
    );
    assert.deepEqual(rows, [{ id: 'keep', content_hash: 'h' }]);
    // Healed: the third cold start is one catalog query again.
    const third = target.open();
    const before = third.stats().queries;
    assert.equal((await applySchema(third, target.config.vector)).applied, false);
    assert.equal(third.stats().queries - before, 1);
  });

  it("accepts LightRAG's halfvec(n) column (HNSW_HALFVEC) of the configured dimension", async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await db.query('CREATE EXTENSION IF NOT EXISTS vector');
    // As LightRAG 1.5 creates it under POSTGRES_VECTOR_INDEX_TYPE=HNSW_HALFVEC.
    await db.query(`CREATE TABLE lightrag_vdb_entity (id VARCHAR(255), workspace VARCHAR(255),
      entity_name VARCHAR(512), content TEXT, content_vector HALFVEC(32),
      create_time TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP, update_time TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
      chunk_ids VARCHAR(255)[] NULL, file_path TEXT NULL,
      CONSTRAINT lightrag_vdb_entity_pk PRIMARY KEY (workspace, id))`);
    await db.query(
      'CREATE INDEX idx_lightrag_vdb_entity_hnsw_halfvec_cosine ON lightrag_vdb_entity USING hnsw (content_vector halfvec_cosine_ops)',
    );
    const result = await applySchema(db, target.config.vector);
    assert.equal(result.vectorColumns.entities, 'halfvec');
    assert.equal(result.vectorColumns.chunks, 'vector');
    assert.equal((await columnsOf(db, 'lightrag_vdb_entity')).content_vector, 'halfvec(32)');
    const indexes = await indexesOf(db, 'lightrag_vdb_entity');
    assert.equal(indexes.filter((i) => /USING hnsw/.test(i)).length, 1, "LightRAG's index reused");
    const entities = new VectorStorage(
      db,
      'entities',
      target.config.vector,
      new HashEmbedder(32),
      'w',
    );
    await entities.upsert([{ id: 'ent-1', entity_name: 'Alan Turing', content: 'Alan Turing' }]);
    const [match] = await entities.query('Alan Turing', 5);
    assert.equal(match?.entity_name, 'Alan Turing');
    assert.ok(match!.distance < 0.01);
    assert.match(
      await entities.explain((await new HashEmbedder(32).embed(['x']))[0]!, 5),
      /hnsw_halfvec_cosine|Sort/,
    );
  });

  it('upgrades the tables of schema version 2 in place: 1.5 columns added, precision widened', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await db.query(`
      CREATE TABLE lightrag_doc_full (id VARCHAR(255), workspace VARCHAR(255), doc_name VARCHAR(1024),
        content TEXT, meta JSONB, create_time TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
        update_time TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT lightrag_doc_full_pk PRIMARY KEY (workspace, id));
      CREATE TABLE lightrag_doc_status (workspace VARCHAR(255) NOT NULL, id VARCHAR(255) NOT NULL,
        content_summary VARCHAR(255) NULL, content_length INT4 NULL, chunks_count INT4 NULL,
        status VARCHAR(64) NULL, file_path TEXT NULL, chunks_list JSONB NULL DEFAULT '[]'::jsonb,
        track_id VARCHAR(255) NULL, metadata JSONB NULL DEFAULT '{}'::jsonb, error_msg TEXT NULL,
        content_hash TEXT NULL, created_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT lightrag_doc_status_pk PRIMARY KEY (workspace, id));
      INSERT INTO lightrag_doc_full (id, workspace, doc_name, content) VALUES ('doc-1', 'w', 'a.md', 'body');
      INSERT INTO lightrag_doc_status (workspace, id, status, created_at)
        VALUES ('w', 'doc-1', 'processed', '2026-01-02 03:04:05');`);
    const result = await applySchema(db, target.config.vector);
    assert.ok(result.repaired.includes('column lightrag_doc_full.parse_format'));
    assert.ok(result.repaired.some((r) => r.startsWith('upgrade: microsecond timestamps')));
    const full = await columnsOf(db, 'lightrag_doc_full');
    assert.equal(full.content_hash, 'text');
    assert.equal(full.chunk_options, 'jsonb');
    assert.equal(
      (await columnsOf(db, 'lightrag_doc_status')).created_at,
      'timestamp without time zone',
    );
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT f.content, f.parse_format, f.chunk_options, f.content_hash,
              to_char(s.created_at, 'YYYY-MM-DD HH24:MI:SS') AS created
         FROM lightrag_doc_full f JOIN lightrag_doc_status s USING (workspace, id)`,
    );
    // Rows that existed get LightRAG's column defaults, as its own migration gives them.
    assert.deepEqual(rows, [
      {
        content: 'body',
        parse_format: 'raw',
        chunk_options: {},
        content_hash: null,
        created: '2026-01-02 03:04:05',
      },
    ]);
  });
});
