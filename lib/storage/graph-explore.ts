/**
 * Reading the graph for people: LightRAG's `get_knowledge_graph`, `get_popular_labels` and
 * `search_labels`. Traversal is breadth-first with one indexed statement per hop (two index arms
 * joined by UNION, visited nodes anti-joined, ORDER BY degree LIMIT budget + 1); a recursive CTE
 * would enumerate paths and blow up around hubs at depth 3.
 */

import type { Queryable } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { checkNodeId, compareCodePoints } from './graph-keys.ts';

import type { EntityProperties, GraphProperties } from './graph-properties.ts';

/** What the explorer reads through: the graph storage of one workspace (lib/storage/graph.ts). */
export interface GraphReader {
  readonly db: Queryable;
  readonly workspace: string;
  readonly namespace: string;
  /** Table names. */
  readonly nodes: string;
  readonly edges: string;
  getNode(id: string): Promise<EntityProperties | null>;
}

/** LightRAG's MAX_GRAPH_NODES: the most nodes one knowledge-graph answer may hold. */
export const MAX_GRAPH_NODES = 1000;

/** A node of `GET /graph`, as LightRAG's WebUI reads it. */
export interface KnowledgeGraphNode {
  id: string;
  labels: string[];
  properties: GraphProperties;
}
/** An edge of `GET /graph`, as LightRAG's WebUI reads it. */
export interface KnowledgeGraphEdge {
  id: string;
  type: string;
  source: string;
  target: string;
  properties: GraphProperties;
}
/** LightRAG's KnowledgeGraph: `is_truncated` is true when nodes were left out for `maxNodes`. */
export interface KnowledgeGraph {
  nodes: KnowledgeGraphNode[];
  edges: KnowledgeGraphEdge[];
  is_truncated: boolean;
}

function integerIn(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}.`, { field });
  }
  return value;
}

interface NodeRow {
  id: string;
  properties: GraphProperties;
  degree: number;
}

/**
 * The subgraph around `label` (breadth-first, higher degree first within each level, up to
 * `maxDepth` hops and `maxNodes` nodes), or with `"*"` the `maxNodes` highest-degree nodes.
 * Edges are those among the returned nodes.
 */
export async function getKnowledgeGraph(
  graph: GraphReader,
  label: string,
  options: { maxDepth?: number; maxNodes?: number } = {},
): Promise<KnowledgeGraph> {
  const maxDepth = integerIn(options.maxDepth ?? 3, 'max_depth', 0, 10);
  const maxNodes = integerIn(options.maxNodes ?? MAX_GRAPH_NODES, 'max_nodes', 1, MAX_GRAPH_NODES);
  const { nodes, truncated } =
    label === '*' ? await topNodes(graph, maxNodes) : await walk(graph, label, maxDepth, maxNodes);
  const edges = await edgesAmong(
    graph,
    nodes.map((n) => n.id),
  );
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      labels: [n.id],
      properties: n.properties,
    })),
    edges,
    is_truncated: truncated,
  };
}

async function topNodes(graph: GraphReader, maxNodes: number) {
  const { rows } = await graph.db.query<NodeRow & { total: number }>(
    `SELECT n.id, n.properties, n.degree,
            count(*) OVER ()::int AS total
       FROM ${graph.nodes} n WHERE n.workspace = $1 AND n.namespace = $2
      ORDER BY degree DESC, n.id COLLATE "C" LIMIT $3`,
    [graph.workspace, graph.namespace, maxNodes],
  );
  return { nodes: rows, truncated: (rows[0]?.total ?? 0) > maxNodes };
}

async function walk(graph: GraphReader, label: string, maxDepth: number, maxNodes: number) {
  const start = await graph.getNode(checkNodeId(label));
  if (!start) return { nodes: [] as NodeRow[], truncated: false };
  const nodes: NodeRow[] = [{ id: label, properties: start, degree: 0 }];
  const visited = [label];
  let frontier = [label];
  let truncated = false;
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const budget = maxNodes - visited.length;
    if (budget <= 0) {
      truncated = truncated || (await hasUnvisitedNeighbour(graph, frontier, visited));
      break;
    }
    const { rows } = await graph.db.query<NodeRow>(
      `WITH nbr AS (
         SELECT e.tgt_id AS id FROM ${graph.edges} e
          WHERE e.workspace = $1 AND e.namespace = $2 AND e.src_id = ANY($3::text[])
         UNION
         SELECT e.src_id FROM ${graph.edges} e
          WHERE e.workspace = $1 AND e.namespace = $2 AND e.tgt_id = ANY($3::text[]))
       SELECT n.id, n.properties, n.degree
         FROM nbr JOIN ${graph.nodes} n ON n.workspace = $1 AND n.namespace = $2 AND n.id = nbr.id
        WHERE NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS v(id) WHERE v.id = nbr.id)
        ORDER BY degree DESC, n.id COLLATE "C" LIMIT $5`,
      [graph.workspace, graph.namespace, frontier, visited, budget + 1],
    );
    if (rows.length > budget) truncated = true;
    const level = rows.slice(0, budget);
    for (const row of level) {
      nodes.push(row);
      visited.push(row.id);
    }
    frontier = level.map((r) => r.id);
  }
  return { nodes, truncated };
}

async function hasUnvisitedNeighbour(
  graph: GraphReader,
  frontier: string[],
  visited: string[],
): Promise<boolean> {
  const { rowCount } = await graph.db.query(
    `SELECT 1 FROM (
       SELECT e.tgt_id AS id FROM ${graph.edges} e WHERE e.workspace = $1 AND e.namespace = $2 AND e.src_id = ANY($3::text[])
       UNION ALL
       SELECT e.src_id FROM ${graph.edges} e WHERE e.workspace = $1 AND e.namespace = $2 AND e.tgt_id = ANY($3::text[])) nbr
      WHERE NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS v(id) WHERE v.id = nbr.id) LIMIT 1`,
    [graph.workspace, graph.namespace, frontier, visited],
  );
  return rowCount > 0;
}

async function edgesAmong(graph: GraphReader, ids: string[]): Promise<KnowledgeGraphEdge[]> {
  if (ids.length < 2) return [];
  const { rows } = await graph.db.query<{ s: string; t: string; properties: GraphProperties }>(
    `SELECT e.src_id AS s, e.tgt_id AS t, e.properties FROM ${graph.edges} e
      WHERE e.workspace = $1 AND e.namespace = $2 AND e.src_id = ANY($3::text[]) AND e.tgt_id = ANY($3::text[])
      ORDER BY e.src_id COLLATE "C", e.tgt_id COLLATE "C"`,
    [graph.workspace, graph.namespace, ids],
  );
  return rows.map((r) => ({
    id: `${r.s}-${r.t}`,
    type: 'DIRECTED',
    source: r.s,
    target: r.t,
    properties: r.properties,
  }));
}

/** Node ids by degree, highest first, ties by id (LightRAG's `get_popular_labels`). */
export async function getPopularLabels(graph: GraphReader, limit = 300): Promise<string[]> {
  integerIn(limit, 'limit', 1, MAX_GRAPH_NODES);
  const { rows } = await graph.db.query<{ id: string }>(
    `SELECT id FROM ${graph.nodes} WHERE workspace = $1 AND namespace = $2
      ORDER BY degree DESC, id COLLATE "C" LIMIT $3`,
    [graph.workspace, graph.namespace, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Labels matching `query` case-insensitively, scored as LightRAG does: exact 1000, prefix 500,
 * otherwise 100 − length, plus 50 when the match starts a word.
 */
export async function searchLabels(
  graph: GraphReader,
  query: string,
  limit = 50,
): Promise<string[]> {
  if (typeof query !== 'string' || query.trim() === '' || query.length > 256) {
    throw new ValidationError('The search query must be 1-256 characters.', { field: 'q' });
  }
  integerIn(limit, 'limit', 1, MAX_GRAPH_NODES);
  const q = query.trim().toLowerCase();
  const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // Candidates in SQL (shortest first: they score highest), exact scoring here.
  const { rows } = await graph.db.query<{ id: string }>(
    `SELECT id FROM ${graph.nodes} WHERE workspace = $1 AND namespace = $2 AND lower(id) LIKE $3
      ORDER BY length(id), id COLLATE "C" LIMIT 5000`,
    [graph.workspace, graph.namespace, pattern],
  );
  const score = (label: string): number => {
    const lower = label.toLowerCase();
    if (lower === q) return 1000;
    if (lower.startsWith(q)) return 500;
    const at = lower.indexOf(q);
    const wordStart = at > 0 && /[\s_\-./()[\]]/.test(lower[at - 1]!);
    return 100 - label.length + (wordStart ? 50 : 0);
  };
  return rows
    .map((r) => ({ id: r.id, score: score(r.id) }))
    .sort((a, b) => b.score - a.score || compareCodePoints(a.id, b.id))
    .slice(0, limit)
    .map((r) => r.id);
}
