/**
 * Graph retrieval for the `local`, `global`, `hybrid` and `mix` modes, as LightRAG's `kg_query`:
 * - local: entity vectors searched with the low-level keywords, then their one-hop relations
 *   ranked by (edge degree, weight);
 * - global: relation vectors searched with the high-level keywords, their ends as entities;
 * - hybrid: both, merged round-robin; mix: hybrid plus the chunk vectors searched with the query.
 * Chunks of the graph elements come from their source ids as LightRAG chooses them
 * (lib/query/chunk-selection.ts); with the vector chunks of `mix` they are merged in turn and
 * capped at `chunk_top_k`.
 */

import { UNKNOWN_TYPE } from '../lightrag-constants.ts';
import type { EntityProperties, RelationProperties } from '../storage/graph.ts';
import { canonicalEdge, edgeKey } from '../storage/graph.ts';
import type { Storages } from '../storage/index.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { type ChunkPickMethod, selectRelatedChunks } from './chunk-selection.ts';
import {
  type ContextChunk,
  type ContextEntity,
  type ContextRelation,
  chunkFromMatch,
  entityLine,
  relationLine,
  truncateByTokens,
} from './context.ts';
import type { QueryKeywords } from './keywords.ts';
import type { QueryRequest } from './request.ts';

/** What a graph mode retrieved: entities, relations, and candidate chunks in priority order. */
export interface GraphRetrieval {
  entities: ContextEntity[];
  relations: ContextRelation[];
  /** Candidate chunks in priority order (vector chunks, entity chunks, relation chunks). */
  chunks: ContextChunk[];
}

const str = (v: unknown) =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);

function toEntity(name: string, p: EntityProperties | undefined, rank: number): ContextEntity {
  return {
    entity: name,
    type: p?.entity_type || UNKNOWN_TYPE,
    description: p?.description ?? '',
    rank,
    source_id: p?.source_id ?? '',
    file_path: p?.file_path ?? '',
  };
}

function toRelation(a: string, b: string, p: RelationProperties, rank: number): ContextRelation {
  return {
    entity1: a,
    entity2: b,
    description: p.description ?? '',
    keywords: p.keywords ?? '',
    weight: p.weight ?? 0,
    rank,
    source_id: p.source_id ?? '',
    file_path: p.file_path ?? '',
  };
}

/** Alternates between lists, keeping the first occurrence of each key. */
export function roundRobin<T>(lists: ReadonlyArray<readonly T[]>, key: (item: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) {
    for (const list of lists) {
      const item = list[i];
      if (item === undefined || seen.has(key(item))) continue;
      seen.add(key(item));
      out.push(item);
    }
  }
  return out;
}

/** Stored relations among `pairs`, in the same order, with their edge degrees. */
async function relationsFor(
  s: Storages,
  pairs: ReadonlyArray<[string, string]>,
): Promise<ContextRelation[]> {
  const [props, edgeDegrees] = await Promise.all([
    s.graph.getEdgesBatch(pairs),
    s.graph.edgeDegreesBatch(pairs),
  ]);
  return pairs
    .filter(([a, b]) => props.has(edgeKey(a, b)))
    .map(([a, b]) => {
      // Shown as LightRAG shows a relation: its ends in sorted (code-point) order.
      const [x, y] = canonicalEdge(a, b);
      return toRelation(x, y, props.get(edgeKey(a, b))!, edgeDegrees.get(edgeKey(a, b)) ?? 0);
    });
}

/** Stored nodes among `names`, in the same order, with their degrees. */
async function entitiesFor(s: Storages, names: readonly string[]): Promise<ContextEntity[]> {
  const [nodes, degrees] = await Promise.all([
    s.graph.getNodesBatch(names),
    s.graph.nodeDegreesBatch(names),
  ]);
  return names
    .filter((n) => nodes.has(n))
    .map((n) => toEntity(n, nodes.get(n), degrees.get(n) ?? 0));
}

async function localSearch(s: Storages, keywords: string[], topK: number) {
  if (keywords.length === 0) return { entities: [], relations: [] };
  const matches = await s.entitiesVdb.query(keywords.join(', '), topK);
  const names = [...new Set(matches.map((m) => str(m.entity_name)).filter(Boolean))];
  const [entities, nodeEdges] = await Promise.all([
    entitiesFor(s, names),
    s.graph.getNodesEdgesBatch(names),
  ]);
  const pairs = new Map<string, [string, string]>();
  for (const e of entities) {
    for (const [a, b] of nodeEdges.get(e.entity) ?? []) pairs.set(edgeKey(a, b), [a, b]);
  }
  const relations = (await relationsFor(s, [...pairs.values()])).sort(
    (x, y) => y.rank - x.rank || y.weight - x.weight,
  );
  return { entities, relations };
}

async function globalSearch(s: Storages, keywords: string[], topK: number) {
  if (keywords.length === 0) return { entities: [], relations: [] };
  const matches = await s.relationshipsVdb.query(keywords.join(', '), topK);
  const pairs = matches
    .map((m) => [str(m.src_id), str(m.tgt_id)] as [string, string])
    .filter(([a, b]) => a && b && a !== b);
  const relations = await relationsFor(s, pairs);
  const entities = await entitiesFor(s, [
    ...new Set(relations.flatMap((r) => [r.entity1, r.entity2])),
  ]);
  return { entities, relations };
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Context chunks for chunk ids, in that order (ids no longer stored are skipped). */
async function chunksOf(
  s: Storages,
  ids: readonly string[],
  scores: ReadonlyMap<string, number>,
): Promise<ContextChunk[]> {
  const rows = await s.textChunks.getByIds(ids);
  return ids.flatMap((id, i) => {
    const row = rows[i];
    if (!row) return [];
    return [
      {
        reference_id: 0,
        chunk_id: id,
        doc_id: row.full_doc_id,
        file_path: row.file_path ?? null,
        content: row.content,
        score: Number((scores.get(id) ?? 0).toFixed(6)),
      },
    ];
  });
}

/** Retrieves and budgets the graph part of the context; chunks are budgeted by the caller. */
export async function retrieveGraph(
  s: Storages,
  request: QueryRequest,
  keywords: QueryKeywords,
  queryVector: number[],
  options: { relatedChunkNumber: number; chunkPickMethod: ChunkPickMethod; tokenizer: Tokenizer },
): Promise<GraphRetrieval> {
  const mode = request.mode;
  const wantLocal = mode === 'local' || mode === 'hybrid' || mode === 'mix';
  const wantGlobal = mode === 'global' || mode === 'hybrid' || mode === 'mix';
  const [local, global, vectorMatches] = await Promise.all([
    wantLocal ? localSearch(s, keywords.low_level, request.top_k) : undefined,
    wantGlobal ? globalSearch(s, keywords.high_level, request.top_k) : undefined,
    mode === 'mix' ? s.chunksVdb.queryByVector(queryVector, request.chunk_top_k) : [],
  ]);
  const entities = truncateByTokens(
    roundRobin([local?.entities ?? [], global?.entities ?? []], (e) => e.entity),
    entityLine,
    request.max_entity_tokens,
    options.tokenizer,
  );
  const relations = truncateByTokens(
    roundRobin([local?.relations ?? [], global?.relations ?? []], (r) =>
      edgeKey(r.entity1, r.entity2),
    ),
    relationLine,
    request.max_relation_tokens,
    options.tokenizer,
  );
  // Similarity of candidate chunks to the question, from their stored vectors (memoised).
  const scores = new Map<string, number>();
  const similarity = async (ids: string[]) => {
    const missing = ids.filter((id) => !scores.has(id));
    const vectors = missing.length > 0 ? await s.chunksVdb.getVectorsByIds(missing) : new Map();
    for (const [id, v] of vectors) scores.set(id, cosine(queryVector, v));
    return new Map(ids.filter((id) => scores.has(id)).map((id) => [id, scores.get(id)!]));
  };
  const pick = {
    relatedChunkNumber: options.relatedChunkNumber,
    method: options.chunkPickMethod,
    similarity,
  };
  const entityIds = await selectRelatedChunks(
    entities.map((e) => e.source_id),
    pick,
  );
  // Relation chunks already chosen through the entities are not taken twice.
  const relationIds = await selectRelatedChunks(
    relations.map((r) => r.source_id),
    { ...pick, exclude: new Set(entityIds), countAfterExclusion: true },
  );
  const [entityChunks, relationChunks] = await Promise.all([
    chunksOf(s, entityIds, scores),
    chunksOf(s, relationIds, scores),
  ]);
  return {
    entities,
    relations,
    // Vector chunks, entity chunks, relation chunks in turn, then LightRAG's chunk_top_k cap.
    chunks: roundRobin(
      [vectorMatches.map(chunkFromMatch), entityChunks, relationChunks],
      (c) => c.chunk_id,
    ).slice(0, request.chunk_top_k),
  };
}
