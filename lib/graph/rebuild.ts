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
import {
  canonicalEdge,
  type EntityProperties,
  edgeKey,
  type RelationProperties,
} from '../storage/graph.ts';
import { type ChunkTrackingRecord, relationChunkKey } from '../storage/graph-kv.ts';
import type { UpkeepElement } from '../storage/graph-upkeep.ts';
import type { Storages } from '../storage/index.ts';
import { md5 } from '../text.ts';
import { requireUnchanged } from './apply-plan.ts';
import { type ChunkExtraction, extractionFromCache } from './extract.ts';
import {
  entityElement,
  entityVectorId,
  type GraphMerger,
  groupExtractions,
  type MergePlan,
  type RecordGroups,
  relationElement,
  relationVectorIds,
  withRelationEnds,
} from './merge.ts';
import { splitField } from './merge-rules.ts';
import {
  changedSince,
  type EdgePair,
  readGraphState,
  type StartingPoints,
  type StoredGraphState,
  startingPoints,
} from './starting-points.ts';

/** What deleting a document did to the graph: elements deleted, and rebuilt from the chunks left. */
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

/** Graph elements a deletion touched, with the chunks that still support each. */
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
export interface RemovalPlan extends RemovalDecision {
  docId: string;
  json: boolean;
  /** The document's chunks and anchors as planned: re-checked under the document lock. */
  basis: string;
  chunkIds: string[];
  points: StartingPoints;
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

/** What removing a document does to the elements it names, given their stored state. */
interface RemovalDecision {
  deleteEntities: string[];
  deleteRelations: EdgePair[];
  stale: Stale;
  /** The records the rebuilt elements are recomputed from (their remaining chunks'). */
  groups: RecordGroups;
}

/**
 * Decides, as LightRAG's `adelete_by_doc_id`, what is deleted and what rebuilt, and reads the
 * cached extractions the rebuilt elements are recomputed from. Database reads only (no LLM or
 * embedding call), so it runs before any lock and again under the locks.
 */
async function decideRemoval(
  s: Storages,
  chunkIds: readonly string[],
  names: readonly string[],
  pairs: readonly EdgePair[],
  state: StoredGraphState,
  json: boolean,
): Promise<RemovalDecision> {
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
  const all = groupExtractions(await cachedExtractions(s, [...supporting], json));
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
  return { deleteEntities, deleteRelations, stale, groups };
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
  options: { json: boolean },
): Promise<RemovalPlan> {
  const { chunkIds, names, pairs, basis } = await documentBasis(s, docId);
  const state = await readGraphState(s, names, pairs);
  const points = startingPoints(state, names, pairs);
  const decision = await decideRemoval(s, chunkIds, names, pairs, state, options.json);
  const rebuilt = await merger.plan(s, decision.groups, { rebuild: true });
  return { docId, basis, chunkIds, points, json: options.json, ...decision, state, rebuilt };
}

/**
 * Applies a removal plan inside the caller's transaction (after its document lock): takes the
 * entity locks and reads the elements again. When another writer changed some of them since the
 * plan (a hub another document is merging into), the removal is decided again from what is
 * stored now — database reads only, cache-only summaries — rather than rolled back; rebuilt
 * elements whose text has no vector yet keep their planned one and come back in `due` for the
 * upkeep (lib/graph/upkeep.ts). The document's own rows (chunks, status, full text) are the
 * caller's. Only a change to the document itself (its chunks or anchors) ends the transaction
 * ({@link requireUnchanged}) to be planned again.
 */
export async function applyRemoval(
  tx: Queryable,
  s: Storages,
  plan: RemovalPlan,
  merger: GraphMerger,
): Promise<GraphRemoval & { due: UpkeepElement[] }> {
  const t = s.in(tx);
  const now = await documentBasis(t, plan.docId);
  if (now.basis !== plan.basis) requireUnchanged(new Set([`d:${plan.docId}`]));
  await lockEntities(tx, s.workspace, [...plan.points.names, ...plan.points.pairs.flat()]);
  let decision: RemovalDecision = plan;
  let rebuilt: Pick<MergePlan, 'nodes' | 'edges'> = plan.rebuilt;
  let state = plan.state;
  let due: UpkeepElement[] = [];
  if ((await changedSince(t, plan.points)).size > 0) {
    state = await readGraphState(t, plan.points.names, plan.points.pairs);
    decision = await decideRemoval(
      t,
      plan.chunkIds,
      plan.points.names,
      plan.points.pairs,
      state,
      plan.json,
    );
    ({ plan: rebuilt, due } = await merger.rebuildUnderLocks(t, decision.groups, plan.rebuilt));
  }

  // The anchors go whatever follows (empty ones too: a document whose extraction found nothing).
  await t.fullEntities.delete([plan.docId]);
  await t.fullRelations.delete([plan.docId]);
  const { deleteEntities, deleteRelations } = decision;
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
  await t.graphUpkeep.forget([
    ...deleteEntities.map(entityElement),
    ...allDeletedEdges.map(([a, b]) => relationElement(canonicalEdge(a, b))),
  ]);
  await keepWithoutCache(t, decision.stale, state.nodes, state.edges, merger.config);
  await merger.write(t, rebuilt);
  // A rebuild calls no LLM under the locks: what LightRAG would summarise is left to the upkeep.
  for (const n of rebuilt.nodes) {
    if (await merger.summarizer.needsSummary(splitField(n.properties.description)))
      due.push(entityElement(n.id));
  }
  for (const e of rebuilt.edges) {
    if (await merger.summarizer.needsSummary(splitField(e.properties.description)))
      due.push(relationElement(e.pair));
  }
  await t.graphUpkeep.markDue(due);
  return {
    entitiesDeleted: deleteEntities.length,
    entitiesRebuilt: rebuilt.nodes.length,
    relationsDeleted: new Set(allDeletedEdges.map(([a, b]) => edgeKey(a, b))).size,
    relationsRebuilt: rebuilt.edges.length,
    due,
  };
}
