/**
 * The graph tables shared with LightRAG 1.5's PGTableGraphStorage (LIGHTRAG-1.5.md §3): the DDL
 * and names LightRAG looks up, graphs LightRAG wrote before this project first ran (degrees
 * recounted), and databases made by earlier versions of this project (upgraded in place).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Database } from '../../lib/db/database.ts';
import { GraphStorage } from '../../lib/storage/graph.ts';
import { applySchema, ensureSchema } from '../../lib/storage/schema.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';

/** LightRAG 1.5.6's graph DDL (pt:80-97), without the DO blocks: what its storage creates. */
const LIGHTRAG_GRAPH_DDL = `
CREATE TABLE IF NOT EXISTS lightrag_graph_nodes (
  workspace TEXT NOT NULL, namespace TEXT NOT NULL DEFAULT 'chunk_entity_relation', id TEXT NOT NULL,
  properties JSONB NOT NULL DEFAULT '{}', updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace, namespace, id));
CREATE TABLE IF NOT EXISTS lightrag_graph_edges (
  workspace TEXT NOT NULL, namespace TEXT NOT NULL DEFAULT 'chunk_entity_relation',
  src_id TEXT NOT NULL, tgt_id TEXT NOT NULL,
  properties JSONB NOT NULL DEFAULT '{}', updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace, namespace, src_id, tgt_id));
ALTER TABLE lightrag_graph_edges ADD CONSTRAINT fk_lightrag_graph_edges_src
  FOREIGN KEY (workspace, namespace, src_id) REFERENCES lightrag_graph_nodes (workspace, namespace, id) ON DELETE CASCADE;
ALTER TABLE lightrag_graph_edges ADD CONSTRAINT fk_lightrag_graph_edges_tgt
  FOREIGN KEY (workspace, namespace, tgt_id) REFERENCES lightrag_graph_nodes (workspace, namespace, id) ON DELETE CASCADE;
CREATE INDEX IF NOT EXISTS idx_lightrag_graph_edges_namespace_tgt ON lightrag_graph_edges (workspace, namespace, tgt_id);`;

/** The graph DDL of this project's schema version 2 (before LightRAG's names). */
const V2_GRAPH_DDL = `
CREATE TABLE lightrag_graph_nodes (
  workspace VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, id VARCHAR(512) NOT NULL,
  properties JSONB NOT NULL DEFAULT '{}'::jsonb, updated_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT lightrag_graph_nodes_pk PRIMARY KEY (workspace, namespace, id));
ALTER TABLE lightrag_graph_nodes ADD COLUMN degree INTEGER NOT NULL DEFAULT 0;
CREATE TABLE lightrag_graph_edges (
  workspace VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL,
  src_id VARCHAR(512) NOT NULL, tgt_id VARCHAR(512) NOT NULL,
  properties JSONB NOT NULL DEFAULT '{}'::jsonb, updated_at TIMESTAMP(0) DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT lightrag_graph_edges_pk PRIMARY KEY (workspace, namespace, src_id, tgt_id),
  CONSTRAINT lightrag_graph_edges_canonical CHECK (src_id COLLATE "C" < tgt_id COLLATE "C"),
  CONSTRAINT lightrag_graph_edges_src_fk FOREIGN KEY (workspace, namespace, src_id)
    REFERENCES lightrag_graph_nodes (workspace, namespace, id) ON DELETE CASCADE,
  CONSTRAINT lightrag_graph_edges_tgt_fk FOREIGN KEY (workspace, namespace, tgt_id)
    REFERENCES lightrag_graph_nodes (workspace, namespace, id) ON DELETE CASCADE);
CREATE INDEX idx_lightrag_graph_edges_tgt ON lightrag_graph_edges (workspace, namespace, tgt_id, src_id);`;

/** A small graph written with plain SQL, as LightRAG writes it (canonical ends, no degree). */
async function writeGraphAsLightRag(db: Database, workspace: string) {
  const nodes = ['Hub', 'A', 'B', 'C', 'Lonely'];
  for (const id of nodes)
    await db.query(
      "INSERT INTO lightrag_graph_nodes (workspace, namespace, id, properties) VALUES ($1, 'chunk_entity_relation', $2, $3::jsonb)",
      [workspace, id, JSON.stringify({ entity_id: id, entity_type: 'concept' })],
    );
  for (const [src, tgt] of [
    ['A', 'Hub'],
    ['B', 'Hub'],
    ['C', 'Hub'],
    ['A', 'B'],
  ])
    await db.query(
      "INSERT INTO lightrag_graph_edges (workspace, namespace, src_id, tgt_id, properties) VALUES ($1, 'chunk_entity_relation', $2, $3, '{\"weight\": 1}')",
      [workspace, src, tgt],
    );
}

async function catalog(db: Database) {
  // PostgreSQL 18 (PGlite) also lists NOT NULL constraints (contype 'n'): not what is compared.
  const { rows: constraints } = await db.query<{ conname: string; def: string }>(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid IN ('lightrag_graph_nodes'::regclass, 'lightrag_graph_edges'::regclass)
        AND contype <> 'n' ORDER BY conname`,
  );
  const { rows: columns } = await db.query<{
    table: string;
    column: string;
    type: string;
    dflt: string;
  }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            pg_get_expr(d.adbin, d.adrelid) AS dflt
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relname IN ('lightrag_graph_nodes', 'lightrag_graph_edges') AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  const { rows: indexes } = await db.query<{ indexname: string }>(
    "SELECT indexname FROM pg_indexes WHERE tablename IN ('lightrag_graph_nodes', 'lightrag_graph_edges')",
  );
  return {
    constraints: Object.fromEntries(constraints.map((c) => [c.conname, c.def])),
    columns: Object.fromEntries(
      columns.map((c) => [`${c.table}.${c.column}`, `${c.type} ${c.dflt ?? ''}`.trim()]),
    ),
    indexes: indexes.map((i) => i.indexname).sort(),
  };
}

describe(`graph tables shared with LightRAG 1.5 on ${TARGET}`, () => {
  it("creates the names and types LightRAG's PGTableGraphStorage looks up", async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await ensureSchema(db, target.config.vector);
    const found = await catalog(db);
    // LightRAG's key check (pt:105-171) looks for these exact names with `namespace` in the key.
    assert.equal(
      found.constraints.lightrag_graph_nodes_pkey,
      'PRIMARY KEY (workspace, namespace, id)',
    );
    assert.equal(
      found.constraints.lightrag_graph_edges_pkey,
      'PRIMARY KEY (workspace, namespace, src_id, tgt_id)',
    );
    assert.match(found.constraints.fk_lightrag_graph_edges_src!, /ON DELETE CASCADE/);
    assert.match(found.constraints.fk_lightrag_graph_edges_tgt!, /ON DELETE CASCADE/);
    for (const column of ['workspace', 'id'])
      assert.equal(found.columns[`lightrag_graph_nodes.${column}`], 'text');
    assert.equal(
      found.columns['lightrag_graph_nodes.namespace'],
      "text 'chunk_entity_relation'::text",
    );
    for (const column of ['src_id', 'tgt_id'])
      assert.equal(found.columns[`lightrag_graph_edges.${column}`], 'text');
    assert.equal(
      found.columns['lightrag_graph_edges.updated_at'],
      'timestamp with time zone now()',
    );
    assert.ok(found.indexes.includes('idx_lightrag_graph_edges_namespace_tgt'));
    assert.ok(found.indexes.includes('idx_lightrag_graph_edges_noncanonical'));
    // LightRAG's own DDL runs on top without error (IF NOT EXISTS; its names are already there).
    await db.query(LIGHTRAG_GRAPH_DDL.split(';').slice(0, 2).join(';'));
    // …and its writes (a self-loop included, which it counts twice) work beside ours.
    await writeGraphAsLightRag(db, 'shared');
    await db.query(
      "INSERT INTO lightrag_graph_edges (workspace, namespace, src_id, tgt_id) VALUES ('shared', 'chunk_entity_relation', 'Lonely', 'Lonely')",
    );
    const graph = new GraphStorage(db, 'shared');
    assert.equal(await graph.nodeDegree('Hub'), 3);
    assert.equal(await graph.nodeDegree('Lonely'), 2);
  });

  it('counts degrees of a graph LightRAG wrote before this project first ran', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await db.query(LIGHTRAG_GRAPH_DDL);
    await writeGraphAsLightRag(db, 'lr');
    const result = await applySchema(db, target.config.vector);
    assert.ok(
      result.repaired.includes('column lightrag_graph_nodes.degree'),
      result.repaired.join(),
    );
    const graph = new GraphStorage(db, 'lr');
    assert.equal(await graph.nodeDegree('Hub'), 3);
    assert.equal(await graph.nodeDegree('A'), 2);
    assert.equal(await graph.nodeDegree('Lonely'), 0);
    assert.deepEqual(await graph.getPopularLabels(3), ['Hub', 'A', 'B']);
    // A delete through this project never drives a degree below what is there (it was -1).
    await graph.deleteNode('A');
    assert.equal(await graph.nodeDegree('Hub'), 2);
    assert.equal(await graph.nodeDegree('B'), 1);
    // LightRAG's index kept; its key names untouched.
    const found = await catalog(db);
    assert.ok(found.constraints.lightrag_graph_nodes_pkey);
    assert.ok(found.indexes.includes('idx_lightrag_graph_edges_namespace_tgt'));
  });

  it('upgrades the graph tables of an earlier version of this project in place', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    await db.query(V2_GRAPH_DDL);
    await writeGraphAsLightRag(db, 'old'); // no triggers in this fixture: degrees are all 0
    await db.query("UPDATE lightrag_graph_nodes SET updated_at = '2026-01-02 03:04:05'");
    const result = await applySchema(db, target.config.vector);
    assert.ok(result.repaired.some((r) => r.startsWith('upgrade: graph constraints')));
    const found = await catalog(db);
    assert.deepEqual(Object.keys(found.constraints).sort(), [
      'fk_lightrag_graph_edges_src',
      'fk_lightrag_graph_edges_tgt',
      'lightrag_graph_edges_canonical',
      'lightrag_graph_edges_pkey',
      'lightrag_graph_nodes_pkey',
    ]);
    assert.match(found.constraints.lightrag_graph_edges_canonical!, /<=/);
    assert.equal(found.columns['lightrag_graph_nodes.id'], 'text');
    assert.equal(
      found.columns['lightrag_graph_edges.updated_at'],
      'timestamp with time zone now()',
    );
    assert.ok(!found.indexes.includes('idx_lightrag_graph_edges_tgt'));
    // Rows kept; naive UTC timestamps read back as the same instant.
    const { rows } = await db.query<{ n: number; t: string }>(
      "SELECT count(*)::int AS n, to_char(min(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS t FROM lightrag_graph_nodes",
    );
    assert.deepEqual(rows[0], { n: 5, t: '2026-01-02 03:04:05' });
    assert.equal(await new GraphStorage(db, 'old').nodeDegree('Hub'), 3, 'degrees recounted');
    // Upgraded: the next cold start is one catalog query.
    const again = target.open();
    const before = again.stats().queries;
    assert.equal((await applySchema(again, target.config.vector)).applied, false);
    assert.equal(again.stats().queries - before, 1);
  });
});
