/**
 * Taking a document out of the graph, as LightRAG's `adelete_by_doc_id`: the entities and
 * relations only it supported are deleted (graph, vectors, chunk-tracking rows); those it shared
 * are rebuilt from the cached extraction replies of their remaining chunks, with no new LLM call
 * (summaries come from the cache or the fragments are joined). Runs inside the caller's
 * transaction, so a failure part-way leaves everything as it was and the call can be retried.
 */
import type { GraphConfig } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { edgeKey, type GraphProperties } from '../storage/graph.ts';
import { type ChunkTrackingRecord, relationChunkKey } from '../storage/graph-kv.ts';
import type { Storages } from '../storage/index.ts';
import { GRAPH_FIELD_SEP } from '../storage/vector-records.ts';
import { type ChunkExtraction, extractionFromCache } from './extract.ts';
import {
  entityVectorId,
  type GraphMerger,
  groupExtractions,
  lockEntities,
  type RecordGroups,
  relationVectorIds,
  withRelationEnds,
} from './merge.ts';

export interface GraphRemoval {
  entitiesDeleted: number;
  entitiesRebuilt: number;
  relationsDeleted: number;
  relationsRebuilt: number;
}

/**
 * The chunks still supporting an element once `removed` is gone (its tracking row, else its
 * `source_id`); undefined when it keeps support and lost none (nothing to do).
 */
function remainingSupport(
  tracking: ChunkTrackingRecord | undefined,
  stored: GraphProperties,
  removed: ReadonlySet<string>,
): string[] | undefined {
  const before = tracking?.chunk_ids ?? String(stored.source_id ?? '').split(GRAPH_FIELD_SEP);
  const remaining = before.filter((id) => !removed.has(id));
  return remaining.length === 0 || remaining.length < before.length ? remaining : undefined;
}

/** Rebuilds a chunk's extraction from the cache entries its `llm_cache_list` names. */
async function cachedExtractions(
  tx: Queryable,
  s: Storages,
  chunkIds: readonly string[],
  json: boolean,
): Promise<ChunkExtraction[]> {
  if (chunkIds.length === 0) return [];
  const chunks = (await s.textChunks.getByIds(chunkIds, tx)).filter((c) => c !== null);
  const keys = chunks.flatMap((c) => c.llm_cache_list ?? []);
  const entries = keys.length > 0 ? await s.llmCache.getByIds(keys, tx) : [];
  const replyOf = new Map(entries.filter((e) => e !== null).map((e) => [e.id, e.return]));
  return chunks.map((c) => {
    const replies = (c.llm_cache_list ?? []).flatMap((k) =>
      replyOf.has(k) ? [replyOf.get(k)!] : [],
    );
    return {
      ...extractionFromCache(replies, json),
      chunkId: c.id,
      filePath: c.file_path ?? null,
      cacheKeys: c.llm_cache_list ?? [],
    };
  });
}

interface Stale {
  nodes: Array<{ id: string; remaining: string[] }>;
  edges: Array<{ pair: [string, string]; remaining: string[] }>;
}

/**
 * Elements whose remaining chunks have no cached extraction (the cache was cleared): nothing to
 * rebuild from, so they keep their description and only lose the deleted document's chunk ids.
 */
async function keepWithoutCache(
  tx: Queryable,
  s: Storages,
  stale: Stale,
  nodes: Map<string, GraphProperties>,
  edges: Map<string, GraphProperties>,
  config: Pick<GraphConfig, 'maxSourceIdsPerEntity' | 'maxSourceIdsPerRelation'>,
): Promise<void> {
  await s.graph.upsertNodes(
    stale.nodes.map(({ id, remaining }) => ({
      id,
      properties: {
        ...nodes.get(id),
        source_id: remaining.slice(0, config.maxSourceIdsPerEntity).join(GRAPH_FIELD_SEP),
      },
    })),
    tx,
  );
  await s.graph.upsertEdges(
    stale.edges.map(({ pair, remaining }) => ({
      source: pair[0],
      target: pair[1],
      properties: {
        ...edges.get(edgeKey(...pair)),
        source_id: remaining.slice(0, config.maxSourceIdsPerRelation).join(GRAPH_FIELD_SEP),
      },
    })),
    tx,
  );
  await s.entityChunks.upsert(
    stale.nodes.map(({ id, remaining }) => ({ id, chunk_ids: remaining })),
    tx,
  );
  await s.relationChunks.upsert(
    stale.edges.map(({ pair, remaining }) => ({
      id: relationChunkKey(...pair),
      chunk_ids: remaining,
    })),
    tx,
  );
}

export async function removeDocumentFromGraph(
  tx: Queryable,
  s: Storages,
  docId: string,
  docChunkIds: readonly string[],
  merger: GraphMerger,
  options: { json: boolean },
): Promise<GraphRemoval> {
  const result = {
    entitiesDeleted: 0,
    entitiesRebuilt: 0,
    relationsDeleted: 0,
    relationsRebuilt: 0,
  };
  const [anchors] = await s.fullEntities.getByIds([docId], tx);
  const [relationAnchors] = await s.fullRelations.getByIds([docId], tx);
  const names = anchors?.entity_names ?? [];
  const pairs = relationAnchors?.relation_pairs ?? [];
  // The anchors go whatever follows (empty ones too: a document whose extraction found nothing).
  await s.fullEntities.delete([docId], tx);
  await s.fullRelations.delete([docId], tx);
  if (names.length === 0 && pairs.length === 0) return result;
  await lockEntities(tx, s.workspace, [...names, ...pairs.flat()]);

  const removed = new Set(docChunkIds);
  const entityChunks = await s.entityChunks.getMapIn(names, tx);
  const relationChunks = await s.relationChunks.getMapIn(
    pairs.map(([a, b]) => relationChunkKey(a, b)),
    tx,
  );
  const nodes = await s.graph.getNodesBatch(names, tx);
  const deleteEntities: string[] = [];
  const rebuildEntities = new Map<string, string[]>();
  for (const name of names) {
    const node = nodes.get(name);
    if (!node) continue;
    const remaining = remainingSupport(entityChunks.get(name), node, removed);
    if (remaining?.length === 0) deleteEntities.push(name);
    else if (remaining) rebuildEntities.set(name, remaining);
  }
  const deleteRelations: Array<[string, string]> = [];
  const rebuildRelations = new Map<string, { pair: [string, string]; remaining: string[] }>();
  const edges = await s.graph.getEdgesBatch(pairs, tx);
  for (const [a, b] of pairs) {
    const stored = edges.get(edgeKey(a, b));
    if (!stored) continue;
    const remaining = remainingSupport(relationChunks.get(relationChunkKey(a, b)), stored, removed);
    if (remaining?.length === 0) deleteRelations.push([a, b]);
    else if (remaining) rebuildRelations.set(edgeKey(a, b), { pair: [a, b], remaining });
  }

  // Deleting a node takes its edges (cascade); their vectors and tracking rows go with them.
  const doomedEdges = [...(await s.graph.getNodesEdgesBatch(deleteEntities, tx)).values()].flat();
  const allDeletedEdges = [...deleteRelations, ...doomedEdges];
  await s.graph.removeEdges(deleteRelations, tx);
  await s.graph.removeNodes(deleteEntities, tx);
  await s.entitiesVdb.delete(deleteEntities.map(entityVectorId), tx);
  await s.entityChunks.delete(deleteEntities, tx);
  await s.relationshipsVdb.delete(
    allDeletedEdges.flatMap(([a, b]) => Object.values(relationVectorIds(a, b))),
    tx,
  );
  await s.relationChunks.delete(
    allDeletedEdges.map(([a, b]) => relationChunkKey(a, b)),
    tx,
  );
  result.entitiesDeleted = deleteEntities.length;
  result.relationsDeleted = new Set(allDeletedEdges.map(([a, b]) => edgeKey(a, b))).size;

  // Rebuild the rest from the cached extractions of the chunks that still support them.
  const chunkIds = new Set([
    ...[...rebuildEntities.values()].flat(),
    ...[...rebuildRelations.values()].flatMap((r) => r.remaining),
  ]);
  const all = groupExtractions(await cachedExtractions(tx, s, [...chunkIds], options.json));
  const groups: RecordGroups = { entities: new Map(), relations: new Map() };
  const stale: Stale = { nodes: [], edges: [] };
  // An entity now named only by relations becomes UNKNOWN, described by them, as at ingest.
  const withEnds = withRelationEnds(all, new Map());
  for (const [name, remaining] of rebuildEntities) {
    const keep = new Set(remaining);
    const records = (withEnds.get(name) ?? []).filter((r) => keep.has(r.chunkId));
    if (records.length > 0) groups.entities.set(name, records);
    else stale.nodes.push({ id: name, remaining });
  }
  for (const [key, { pair, remaining }] of rebuildRelations) {
    const keep = new Set(remaining);
    const records = (all.relations.get(key)?.records ?? []).filter((r) => keep.has(r.chunkId));
    if (records.length > 0) groups.relations.set(key, { pair, records });
    else stale.edges.push({ pair, remaining });
  }
  await keepWithoutCache(tx, s, stale, nodes, edges, merger.config);
  const rebuilt = await merger.apply(tx, s, groups, { rebuild: true });
  result.entitiesRebuilt = rebuilt.entities;
  result.relationsRebuilt = rebuilt.relations;
  return result;
}
