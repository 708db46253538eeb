/**
 * 6. Graph traversal on a hub (the CTE must walk every path to rank the whole depth-3
 * neighbourhood, which is what the breadth-first walk ranks level by level): a scale-free graph (preferential attachment, so a few nodes have
 * thousands of edges), then `getKnowledgeGraph(hub, maxDepth 3, maxNodes 1000)` from the
 * highest-degree node — the breadth-first walk with one indexed statement per hop — against the
 * recursive CTE that enumerates paths, under a statement timeout.
 */

import { Database } from '../lib/db/database.ts';
import { GraphStorage } from '../lib/storage/graph.ts';
import { ensureSchema } from '../lib/storage/schema.ts';
import { createBenchDatabase, quiet } from './lib/env.ts';
import { rng, round, summary, timed } from './lib/stats.ts';

/** Edges of a preferential-attachment graph: each new node links to `m` ends picked by degree. */
function scaleFreeEdges(edgeCount: number, m: number, seed = 7): Array<[string, string]> {
  const random = rng(seed);
  const ends: number[] = [];
  const edges: Array<[string, string]> = [];
  const seen = new Set<string>();
  const name = (i: number) => `Entity ${i}`;
  for (let i = 0; i <= m; i++) {
    for (let j = 0; j < i; j++) {
      edges.push([name(i), name(j)]);
      ends.push(i, j);
    }
  }
  for (let node = m + 1; edges.length < edgeCount; node++) {
    const picked = new Set<number>();
    while (picked.size < m) picked.add(ends[Math.floor(random() * ends.length)]!);
    for (const target of picked) {
      const key = `${node}-${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push([name(node), name(target)]);
      ends.push(node, target);
      if (edges.length >= edgeCount) break;
    }
  }
  return edges;
}

const RECURSIVE_CTE = (g: GraphStorage) => `
  WITH RECURSIVE walk(id, depth, path) AS (
    SELECT $3::text, 0, ARRAY[$3::text]
    UNION ALL
    SELECT CASE WHEN e.src_id = w.id THEN e.tgt_id ELSE e.src_id END, w.depth + 1,
           w.path || CASE WHEN e.src_id = w.id THEN e.tgt_id ELSE e.src_id END
      FROM walk w JOIN ${g.edges} e
        ON e.workspace = $1 AND e.namespace = $2 AND (e.src_id = w.id OR e.tgt_id = w.id)
     WHERE w.depth < $4
       AND NOT (CASE WHEN e.src_id = w.id THEN e.tgt_id ELSE e.src_id END = ANY(w.path)))
  SELECT count(DISTINCT id)::int AS nodes FROM walk`;

export async function graphTraversal(edgeCount: number, samples: number, cteTimeoutMs: number) {
  const bench = await createBenchDatabase('graph');
  // Loading 200k edges is bulk work, not a request: generous timeouts for the load statements.
  const config = await bench.config('neon', {
    POSTGRES_STATEMENT_TIMEOUT_MS: '600000',
    POSTGRES_QUERY_TIMEOUT_MS: '600000',
  });
  const db = new Database(config.database, quiet);
  try {
    await ensureSchema(db, config.vector);
    const graph = new GraphStorage(db, 'bench');
    const edges = scaleFreeEdges(edgeCount, 5);
    const load = await timed(async () => {
      for (let i = 0; i < edges.length; i += 2000) {
        await graph.upsertEdges(
          edges.slice(i, i + 2000).map(([source, target]) => ({
            source,
            target,
            properties: { weight: 1, description: `${source} relates to ${target}.` },
          })),
        );
      }
      await db.query('ANALYZE lightrag_graph_nodes');
      await db.query('ANALYZE lightrag_graph_edges');
    });
    const counts = await graph.counts();
    const popular = await timed(() => graph.getPopularLabels(1));
    const hub = popular.value[0]!;
    const hubDegree = await graph.nodeDegree(hub);
    const times: number[] = [];
    let last = await graph.getKnowledgeGraph(hub, { maxDepth: 3, maxNodes: 1000 });
    for (let i = 0; i < samples; i++) {
      const t = await timed(() => graph.getKnowledgeGraph(hub, { maxDepth: 3, maxNodes: 1000 }));
      times.push(t.ms);
      last = t.value;
    }
    const star = await timed(() => graph.getKnowledgeGraph('*', { maxNodes: 1000 }));
    const cte = await timed(async () => {
      try {
        return await db.withTransaction(async (tx) => {
          await tx.query(`SET LOCAL statement_timeout = ${Math.trunc(cteTimeoutMs)}`);
          const { rows } = await tx.query<{ nodes: number }>(RECURSIVE_CTE(graph), [
            graph.workspace,
            graph.namespace,
            hub,
            3,
          ]);
          return { nodes: rows[0]?.nodes ?? 0, timedOut: false };
        });
      } catch (err) {
        if ((err as { code?: string }).code !== '57014') throw err;
        return { nodes: 0, timedOut: true };
      }
    });
    return {
      edges: counts.edges,
      nodes: counts.nodes,
      loadSeconds: round(load.ms / 1000, 1),
      hub,
      hubDegree,
      popularLabelMs: round(popular.ms, 1),
      bfs: {
        ...summary(times),
        nodes: last.nodes.length,
        edges: last.edges.length,
        truncated: last.is_truncated,
      },
      starMs: round(star.ms, 1),
      recursiveCte: { ms: round(cte.ms, 0), timeoutMs: cteTimeoutMs, ...cte.value },
    };
  } finally {
    await db.end();
  }
}
