/**
 * LightRAG's graph storage on plain PostgreSQL (no Apache AGE, which Neon, RDS and Supabase do
 * not offer): one node table and one edge table shared by all workspaces, keyed by (workspace,
 * namespace, …). Edges are undirected and stored once with their ends in code-point order, which
 * is computed here rather than by a collation (collations disagree on non-ASCII names); the
 * table's CHECK constraint holds writers from elsewhere to the same order. Deleting a node deletes
 * its edges (ON DELETE CASCADE). A node's degree is kept in its row by a trigger on the edge
 * table, so it stays right whoever writes the edges (a LightRAG deployment included).
 */

import type { Database, Queryable } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { GRAPH_NAMESPACE } from '../lightrag-constants.ts';
import { toJsonParam } from '../text.ts';
import { getKnowledgeGraph, getPopularLabels, searchLabels } from './graph-explore.ts';
import { checkNodeId, checkPair, compareCodePoints, edgeKey } from './graph-keys.ts';
import {
  decodeEntity,
  decodeRelation,
  type EntityProperties,
  type GraphProperties,
  type RelationProperties,
} from './graph-properties.ts';
import { TABLES } from './tables.ts';
import { WorkspaceBound } from './workspace-bound.ts';

export {
  canonicalEdge,
  checkNodeId,
  compareCodePoints,
  edgeKey,
  MAX_NODE_ID_LENGTH,
} from './graph-keys.ts';
export type { EntityProperties, GraphProperties, RelationProperties } from './graph-properties.ts';

/** A relation's two entity names, in stored order. */
export type EdgePair = readonly [string, string];

/**
 * The entity-relation graph of one workspace.
 *
 * @example
 * ```ts
 * const graph = new GraphStorage(db, 'default');
 * await graph.upsertNodes([{ id: 'Alice', properties: { entity_id: 'Alice', entity_type: 'person' } }]);
 * await graph.upsertEdges([{ source: 'Alice', target: 'Bob', properties: { weight: 1 } }]);
 * await graph.nodeDegree('Alice'); // 1
 * ```
 */
export class GraphStorage extends WorkspaceBound {
  readonly namespace: string;
  readonly nodes = TABLES.graphNodes;
  readonly edges = TABLES.graphEdges;

  constructor(db: Database, workspace: string, namespace = GRAPH_NAMESPACE) {
    super(db, workspace);
    this.namespace = namespace;
  }

  async hasNode(id: string): Promise<boolean> {
    return (await this.getNodesBatch([id])).has(id);
  }

  async hasEdge(a: string, b: string): Promise<boolean> {
    return (await this.getEdge(a, b)) !== null;
  }

  async getNode(id: string): Promise<EntityProperties | null> {
    return (await this.getNodesBatch([id])).get(id) ?? null;
  }

  async getEdge(a: string, b: string): Promise<RelationProperties | null> {
    return (await this.getEdgesBatch([[a, b]])).get(edgeKey(a, b)) ?? null;
  }

  async nodeDegree(id: string): Promise<number> {
    return (await this.nodeDegreesBatch([id])).get(id) ?? 0;
  }

  /** LightRAG's edge degree: the sum of both ends' degrees. */
  async edgeDegree(a: string, b: string): Promise<number> {
    const degrees = await this.nodeDegreesBatch([a, b]);
    return (degrees.get(a) ?? 0) + (degrees.get(b) ?? 0);
  }

  /** The edges at a node as `[id, neighbour]` pairs; null when the node does not exist. */
  async getNodeEdges(id: string): Promise<Array<[string, string]> | null> {
    if (!(await this.hasNode(id))) return null;
    return (await this.getNodesEdgesBatch([id])).get(id) ?? [];
  }

  /** Node properties by id, decoded; absent nodes are absent. */
  async getNodesBatch(ids: readonly string[]): Promise<Map<string, EntityProperties>> {
    const rows = await this.#nodeRows(ids, 'properties');
    return new Map(rows.map((row) => [row.id, decodeEntity(row.properties)]));
  }

  /** Degrees by id; an id that is no node has degree 0. */
  async nodeDegreesBatch(ids: readonly string[]) {
    const rows = await this.#nodeRows(ids, 'degree');
    const result = new Map<string, number>(ids.map((id) => [id, 0]));
    for (const row of rows) result.set(row.id, row.degree as number);
    return result;
  }

  /** One column of the stored nodes among `ids` (ids checked, duplicates sent once). */
  async #nodeRows(ids: readonly string[], column: 'properties' | 'degree') {
    const wanted = [...new Set(ids.map(checkNodeId))];
    if (wanted.length === 0) return [];
    const { rows } = await this.q.query<{ id: string; properties?: unknown; degree?: unknown }>(
      `SELECT id, ${column} FROM ${this.nodes} WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])`,
      [this.workspace, this.namespace, wanted],
    );
    return rows;
  }

  /** Edge degrees keyed by {@link edgeKey}. */
  async edgeDegreesBatch(pairs: readonly EdgePair[]): Promise<Map<string, number>> {
    const degrees = await this.nodeDegreesBatch(pairs.flat());
    return new Map(
      pairs.map(([a, b]) => [edgeKey(a, b), (degrees.get(a) ?? 0) + (degrees.get(b) ?? 0)]),
    );
  }

  /** Edge properties keyed by {@link edgeKey}; absent edges are absent. */
  async getEdgesBatch(pairs: readonly EdgePair[]): Promise<Map<string, RelationProperties>> {
    const canonical = pairs.map(([a, b]) => checkPair(a, b));
    const result = new Map<string, RelationProperties>();
    if (canonical.length === 0) return result;
    const { rows } = await this.q.query<{ s: string; t: string; properties: unknown }>(
      `SELECT e.src_id AS s, e.tgt_id AS t, e.properties
         FROM unnest($3::text[], $4::text[]) AS p(s, t)
         JOIN ${this.edges} e ON e.workspace = $1 AND e.namespace = $2 AND e.src_id = p.s AND e.tgt_id = p.t`,
      [this.workspace, this.namespace, canonical.map((p) => p[0]), canonical.map((p) => p[1])],
    );
    for (const row of rows) result.set(edgeKey(row.s, row.t), decodeRelation(row.properties));
    return result;
  }

  /** For each node, its edges as `[id, neighbour]` (nodes without edges map to `[]`). */
  async getNodesEdgesBatch(ids: readonly string[]) {
    const wanted = [...new Set(ids.map(checkNodeId))];
    const result = new Map<string, Array<[string, string]>>(wanted.map((id) => [id, []]));
    if (wanted.length === 0) return result;
    // Two index arms joined by UNION ALL: an OR across src_id and tgt_id forces a sequential scan.
    const { rows } = await this.q.query<{ node: string; other: string }>(
      `SELECT src_id AS node, tgt_id AS other FROM ${this.edges}
        WHERE workspace = $1 AND namespace = $2 AND src_id = ANY($3::text[])
       UNION ALL
       SELECT tgt_id, src_id FROM ${this.edges}
        WHERE workspace = $1 AND namespace = $2 AND tgt_id = ANY($3::text[])`,
      [this.workspace, this.namespace, wanted],
    );
    for (const row of rows) result.get(row.node)?.push([row.node, row.other]);
    return result;
  }

  /**
   * Inserts or replaces nodes (properties replaced whole, as LightRAG's `upsert_node`). Rows are
   * written in code-point order so concurrent writers lock them in the same order.
   */
  async upsertNodes(
    nodes: ReadonlyArray<{ id: string; properties: GraphProperties }>,
  ): Promise<number> {
    const byId = new Map(nodes.map((n) => [checkNodeId(n.id), n.properties]));
    if (byId.size === 0) return 0;
    const ids = [...byId.keys()].sort(compareCodePoints);
    await this.q.query(
      `INSERT INTO ${this.nodes} (workspace, namespace, id, properties)
       SELECT $1, $2, u.id, u.p::jsonb FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS u(id, p, n) ORDER BY u.n
       ON CONFLICT (workspace, namespace, id) DO UPDATE
         SET properties = EXCLUDED.properties, updated_at = now()`,
      [this.workspace, this.namespace, ids, ids.map((id) => propertiesParam(byId.get(id)))],
    );
    return ids.length;
  }

  /**
   * Inserts or replaces undirected edges. A missing end is created as a bare node
   * (`{entity_id}`), as LightRAG's storages do, so an edge never fails on a foreign key.
   */
  async upsertEdges(
    edges: ReadonlyArray<{ source: string; target: string; properties: GraphProperties }>,
  ): Promise<number> {
    const byKey = new Map<string, { pair: [string, string]; properties: GraphProperties }>();
    for (const e of edges) {
      const pair = checkPair(e.source, e.target);
      byKey.set(edgeKey(...pair), { pair, properties: e.properties });
    }
    if (byKey.size === 0) return 0;
    const sorted = [...byKey.values()].sort(
      (x, y) => compareCodePoints(x.pair[0], y.pair[0]) || compareCodePoints(x.pair[1], y.pair[1]),
    );
    const ends = [...new Set(sorted.flatMap((e) => e.pair))].sort(compareCodePoints);
    await this.q.query(
      `INSERT INTO ${this.nodes} (workspace, namespace, id, properties)
       SELECT $1, $2, u.id, jsonb_build_object('entity_id', u.id) FROM unnest($3::text[]) WITH ORDINALITY AS u(id, n) ORDER BY u.n
       ON CONFLICT (workspace, namespace, id) DO NOTHING`,
      [this.workspace, this.namespace, ends],
    );
    await this.q.query(
      `INSERT INTO ${this.edges} (workspace, namespace, src_id, tgt_id, properties)
       SELECT $1, $2, u.s, u.t, u.p::jsonb FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(s, t, p, n) ORDER BY u.n
       ON CONFLICT (workspace, namespace, src_id, tgt_id) DO UPDATE
         SET properties = EXCLUDED.properties, updated_at = now()`,
      [
        this.workspace,
        this.namespace,
        sorted.map((e) => e.pair[0]),
        sorted.map((e) => e.pair[1]),
        sorted.map((e) => propertiesParam(e.properties)),
      ],
    );
    return sorted.length;
  }

  /** Deletes nodes and (by cascade) every edge at them; returns how many nodes went. */
  async removeNodes(ids: readonly string[]): Promise<number> {
    const wanted = [...new Set(ids.map(checkNodeId))].sort(compareCodePoints);
    if (wanted.length === 0) return 0;
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.nodes} WHERE workspace = $1 AND namespace = $2 AND id = ANY($3::text[])`,
      [this.workspace, this.namespace, wanted],
    );
    return rowCount;
  }

  async deleteNode(id: string): Promise<boolean> {
    return (await this.removeNodes([id])) > 0;
  }

  /** Deletes edges in either direction; returns how many went. */
  async removeEdges(pairs: readonly EdgePair[]): Promise<number> {
    const canonical = pairs.map(([a, b]) => checkPair(a, b));
    if (canonical.length === 0) return 0;
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.edges} e USING unnest($3::text[], $4::text[]) AS p(s, t)
        WHERE e.workspace = $1 AND e.namespace = $2 AND e.src_id = p.s AND e.tgt_id = p.t`,
      [this.workspace, this.namespace, canonical.map((p) => p[0]), canonical.map((p) => p[1])],
    );
    return rowCount;
  }

  /** See {@link getKnowledgeGraph}: LightRAG's `get_knowledge_graph(label, max_depth, max_nodes)`. */
  getKnowledgeGraph(label: string, options: { maxDepth?: number; maxNodes?: number } = {}) {
    return getKnowledgeGraph(this, label, options);
  }

  getPopularLabels(limit?: number): Promise<string[]> {
    return getPopularLabels(this, limit);
  }

  searchLabels(query: string, limit?: number): Promise<string[]> {
    return searchLabels(this, query, limit);
  }

  /** Every node id, in code-point order (LightRAG's `get_all_labels`). */
  async getAllLabels(): Promise<string[]> {
    const { rows } = await this.q.query<{ id: string }>(
      `SELECT id FROM ${this.nodes} WHERE workspace = $1 AND namespace = $2 ORDER BY id COLLATE "C"`,
      [this.workspace, this.namespace],
    );
    return rows.map((r) => r.id);
  }

  async counts(): Promise<{ nodes: number; edges: number }> {
    const { rows } = await this.q.query<{ nodes: number; edges: number }>(
      `SELECT (SELECT count(*) FROM ${this.nodes} WHERE workspace = $1 AND namespace = $2)::int AS nodes,
              (SELECT count(*) FROM ${this.edges} WHERE workspace = $1 AND namespace = $2)::int AS edges`,
      [this.workspace, this.namespace],
    );
    return rows[0] ?? { nodes: 0, edges: 0 };
  }

  /** Deletes this workspace's graph (edges first; the cascade would do it row by row). */
  async drop(): Promise<void> {
    const run = async (tx: Queryable) => {
      await tx.query(`DELETE FROM ${this.edges} WHERE workspace = $1 AND namespace = $2`, [
        this.workspace,
        this.namespace,
      ]);
      await tx.query(`DELETE FROM ${this.nodes} WHERE workspace = $1 AND namespace = $2`, [
        this.workspace,
        this.namespace,
      ]);
    };
    await (this.inTransaction ? run(this.q) : this.db.withTransaction(run));
  }
}

function propertiesParam(properties: GraphProperties | undefined): string {
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    throw new ValidationError('Graph properties must be an object.');
  }
  // LightRAG writes a relation's weight as a float (`3.0`); JSONB keeps the written scale.
  const weight = properties.weight;
  if (typeof weight === 'number' && Number.isInteger(weight)) {
    const marker = '__lightrag_serverless_float_weight__';
    return (toJsonParam({ ...properties, weight: marker }) ?? '{}').replace(
      JSON.stringify(marker),
      `${weight}.0`,
    );
  }
  return toJsonParam(properties) ?? '{}';
}
