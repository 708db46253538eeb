/**
 * Taking a document out of the graph, as LightRAG's `adelete_by_doc_id`: the entities and
 * relations only it supported are deleted (graph, vectors, chunk-tracking rows); those it shared
 * are rebuilt from the cached extraction replies of their remaining chunks, with no new LLM call
 * (summaries come from the cache or the fragments are joined). Planned outside any transaction
 * (reads and embeddings), applied inside the caller's short one after re-checking what the plan
 * started from, so a failure part-way leaves everything as it was and the call can be retried.
 */
import type { GraphConfig } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { lockEntities } from '../db/locks.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { type EntityProperties, edgeKey, type RelationProperties } from '../storage/graph.ts';
import { type ChunkTrackingRecord, relationChunkKey } from '../storage/graph-kv.ts';
import type { Storages } from '../storage/index.ts';
import { md5 } from '../text.ts';
import { requireUnchanged } from './apply-plan.ts';
import { type ChunkExtraction, extractionFromCache } from './extract.ts';
import {
  entityVectorId,
  type GraphMerger,
  groupExtractions,
  type MergePlan,
  type RecordGroups,
  relationVectorIds,
  withRelationEnds,
} from './merge.ts';
import {
  changedSince,
  type EdgePair,
  readGraphState,
  type StartingPoints,
  type StoredGraphState,
  startingPoints,
} from './starting-points.ts';

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
  stored: EntityProperties | RelationProperties,
  removed: ReadonlySet<string>,
): string[] | undefined {
  const before = tracking?.chunk_ids ?? (stored.source_id ?? '').split(GRAPH_FIELD_SEP);
  const remaining = before.filter((id) => !removed.has(id));
  return remaining.length === 0 || remaining.length < before.length ? remaining : undefined;
}

/** Rebuilds a chunk's extraction from the cache entries its `llm_cache_list` names. */
async function cachedExtractions(
  s: Storages,
  chunkIds: readonly string[],
  json: boolean,
): Promise<ChunkExtraction[]> {
  if (chunkIds.length === 0) return [];
  const chunks = (await s.textChunks.getByIds(chunkIds)).filter((c) => c !== null);
  const keys = chunks.flatMap((c) => c.llm_cache_list ?? []);
  const entries = keys.length > 0 ? await s.llmCache.getByIds(keys) : [];
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

export interface Stale {
  nodes: Array<{ id: string; remaining: string[] }>;
  edges: Array<{ pair: EdgePair; remaining: string[] }>;
}

/**
 * Elements whose remaining chunks have no cached extraction (the cache was cleared): nothing to
 * rebuild from, so they keep their description and only lose the deleted document's chunk ids.
 */
async function keepWithoutCache(
  t: Storages,
  stale: Stale,
  nodes: Map<string, EntityProperties>,
  edges: Map<string, RelationProperties>,
  config: Pick<GraphConfig, 'maxSourceIdsPerEntity' | 'maxSourceIdsPerRelation'>,
): Promise<void> {
  await t.graph.upsertNodes(
    stale.nodes.map(({ id, remaining }) => ({
      id,
      properties: {
        ...nodes.get(id),
        source_id: remaining.slice(0, config.maxSourceIdsPerEntity).join(GRAPH_FIELD_SEP),
      },
    })),
  );
  await t.graph.upsertEdges(
    stale.edges.map(({ pair, remaining }) => ({
      source: pair[0],
      target: pair[1],
      properties: {
        ...edges.get(edgeKey(...pair)),
        source_id: remaining.slice(0, config.maxSourceIdsPerRelation).join(GRAPH_FIELD_SEP),
      },
    })),
  );
  await t.entityChunks.upsert(
    stale.nodes.map(({ id, remaining }) => ({ id, chunk_ids: remaining })),
  );
  await t.relationChunks.upsert(
    stale.edges.map(({ pair, remaining }) => ({
      id: relationChunkKey(...pair),
      chunk_ids: remaining,
    })),
  );
}

/** A document's removal from the graph, computed outside any transaction. */
export interface RemovalPlan {
  docId: string;
  /** The document's chunks and anchors as planned: re-checked under the document lock. */
  basis: string;
  chunkIds: string[];
  points: StartingPoints;
  deleteEntities: string[];
  deleteRelations: EdgePair[];
  stale: Stale;
  /** What the stale elements keep (their stored properties). */
  state: StoredGraphState;
  rebuilt: MergePlan;
}

async function documentBasis(s: Storages, docId: string) {
  const chunkIds = await s.textChunks.idsOfDocument(docId);
  const [anchors] = await s.fullEntities.getByIds([docId]);
  const [relationAnchors] = await s.fullRelations.getByIds([docId]);
  const names = anchors?.entity_names ?? [];
  const pairs = (relationAnchors?.relation_pairs ?? []) as EdgePair[];
  return { chunkIds, names, pairs, basis: md5(JSON.stringify([chunkIds, names, pairs])) };
}

/**
 * Plans taking a document out of the graph, as LightRAG's `adelete_by_doc_id`: reads its chunks,
 * anchors and the elements they name, decides what is deleted and what rebuilt, rebuilds from
 * cached extractions (cache-only summaries) and embeds the rebuilt rows — all before any lock.
 */
export async function planRemoval(
  s: Storages,
  docId: string,
  merger: GraphMerger,
  options: { json: boolean; previous?: RemovalPlan },
): Promise<RemovalPlan> {
  const { chunkIds, names, pairs, basis } = await documentBasis(s, docId);
  const state = await readGraphState(s, names, pairs);
  const points = startingPoints(state, names, pairs);
  const removed = new Set(chunkIds);
  const deleteEntities: string[] = [];
  const rebuildEntities = new Map<string, string[]>();
  for (const name of names) {
    const node = state.nodes.get(name);
    if (!node) continue;
    const remaining = remainingSupport(state.entityChunks.get(name), node, removed);
    if (remaining?.length === 0) deleteEntities.push(name);
    else if (remaining) rebuildEntities.set(name, remaining);
  }
  const deleteRelations: EdgePair[] = [];
  const rebuildRelations = new Map<string, { pair: EdgePair; remaining: string[] }>();
  for (const [a, b] of pairs) {
    const stored = state.edges.get(edgeKey(a, b));
    if (!stored) continue;
    const tracking = state.relationChunks.get(relationChunkKey(a, b));
    const remaining = remainingSupport(tracking, stored, removed);
    if (remaining?.length === 0) deleteRelations.push([a, b]);
    else if (remaining) rebuildRelations.set(edgeKey(a, b), { pair: [a, b], remaining });
  }

  // Rebuild the rest from the cached extractions of the chunks that still support them.
  const supporting = new Set([
    ...[...rebuildEntities.values()].flat(),
    ...[...rebuildRelations.values()].flatMap((r) => r.remaining),
  ]);
  const all = groupExtractions(await cachedExtractions(s, [...supporting], options.json));
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
  const rebuilt = await merger.plan(s, groups, {
    rebuild: true,
    ...(options.previous ? { previous: options.previous.rebuilt } : {}),
  });
  return {
    docId,
    basis,
    chunkIds,
    points,
    deleteEntities,
    deleteRelations,
    stale,
    state,
    rebuilt,
  };
}

/**
 * Applies a removal plan inside the caller's transaction (after its document lock): takes the
 * entity locks, re-checks the plan's starting points ({@link requireUnchanged} ends the
 * transaction when another writer got there first), then deletes and rebuilds. The document's
 * own rows (chunks, status, full text) are the caller's.
 */
export async function applyRemoval(
  tx: Queryable,
  s: Storages,
  plan: RemovalPlan,
  merger: GraphMerger,
): Promise<GraphRemoval> {
  const t = s.in(tx);
  const now = await documentBasis(t, plan.docId);
  if (now.basis !== plan.basis) requireUnchanged(new Set([`d:${plan.docId}`]));
  await lockEntities(tx, s.workspace, [...plan.points.names, ...plan.points.pairs.flat()]);
  requireUnchanged(await changedSince(t, plan.points));

  // The anchors go whatever follows (empty ones too: a document whose extraction found nothing).
  await t.fullEntities.delete([plan.docId]);
  await t.fullRelations.delete([plan.docId]);
  const { deleteEntities, deleteRelations } = plan;
  // Deleting a node takes its edges (cascade); their vectors and tracking rows go with them.
  const doomedEdges = [...(await t.graph.getNodesEdgesBatch(deleteEntities)).values()].flat();
  const allDeletedEdges = [...deleteRelations, ...doomedEdges];
  await t.graph.removeEdges(deleteRelations);
  await t.graph.removeNodes(deleteEntities);
  await t.entitiesVdb.delete(deleteEntities.map(entityVectorId));
  await t.entityChunks.delete(deleteEntities);
  await t.relationshipsVdb.delete(
    allDeletedEdges.flatMap(([a, b]) => Object.values(relationVectorIds(a, b))),
  );
  await t.relationChunks.delete(allDeletedEdges.map(([a, b]) => relationChunkKey(a, b)));
  await keepWithoutCache(t, plan.stale, plan.state.nodes, plan.state.edges, merger.config);
  await merger.write(t, plan.rebuilt);
  return {
    entitiesDeleted: deleteEntities.length,
    entitiesRebuilt: plan.rebuilt.nodes.length,
    relationsDeleted: new Set(allDeletedEdges.map(([a, b]) => edgeKey(a, b))).size,
    relationsRebuilt: plan.rebuilt.edges.length,
  };
}
