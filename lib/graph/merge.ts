/**
 * Merging extracted records into the graph, its vector rows and the chunk-tracking tables, as
 * plan / apply. The plan — stored state read, merge rules, LLM summaries, embeddings — runs
 * outside any transaction, so no lock or pooled connection is held across a network call. The
 * apply step runs in the caller's short transaction: it takes a transaction-scoped advisory lock
 * per entity in one fixed order (sorted lock keys; relations are covered by their two ends),
 * re-checks each element's starting point and writes only if none changed — no lost update, no
 * lock-order deadlock; changed elements are planned again (lib/graph/apply-plan.ts).
 */
import type { GraphConfig } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { lockEntities } from '../db/locks.ts';
import { UNKNOWN_TYPE } from '../lightrag-constants.ts';
import type { EntityProperties, RelationProperties } from '../storage/graph.ts';
import { canonicalEdge, compareCodePoints, edgeKey } from '../storage/graph.ts';
import { relationChunkKey } from '../storage/graph-kv.ts';
import type { Storages } from '../storage/index.ts';
import { computeMdhashId } from '../text.ts';
import type { ChunkExtraction } from './extract.ts';
import { mergeEntity, mergeRelation, type Sourced } from './merge-rules.ts';
import type { EntityRecord, RelationRecord } from './records.ts';
import {
  changedSince,
  type EdgePair,
  edgePoint,
  nodePoint,
  readGraphState,
  type StartingPoints,
  type StoredGraphState,
  startingPoints,
} from './starting-points.ts';
import type { Summarizer } from './summarize.ts';

export interface RecordGroups {
  entities: Map<string, Sourced<EntityRecord>[]>;
  relations: Map<string, { pair: [string, string]; records: Sourced<RelationRecord>[] }>;
}

export interface MergeStats {
  entities: number;
  relations: number;
}

/** Records of many chunks grouped by entity name and by undirected relation. */
export function groupExtractions(extractions: readonly ChunkExtraction[]): RecordGroups {
  const groups: RecordGroups = { entities: new Map(), relations: new Map() };
  for (const x of extractions) {
    const source = { chunkId: x.chunkId, filePath: x.filePath };
    for (const record of x.entities) {
      const list = groups.entities.get(record.name) ?? [];
      list.push({ record, ...source });
      groups.entities.set(record.name, list);
    }
    for (const record of x.relations) {
      const pair = canonicalEdge(record.source, record.target);
      const key = edgeKey(...pair);
      const group = groups.relations.get(key) ?? { pair, records: [] };
      group.records.push({ record, ...source });
      groups.relations.set(key, group);
    }
  }
  return groups;
}

/**
 * The entity records plus, for each relation end that is no entity record of the same chunk, a
 * record from the relation, as LightRAG treats relation ends: an end that exists nowhere yet is
 * created by the first relation naming it (type UNKNOWN, that relation's description and file);
 * every other mention only supports the entity — its chunk id is tracked (so deleting another
 * document cannot orphan the relation), with no description, type vote or file path.
 */
export function withRelationEnds(
  groups: RecordGroups,
  known: ReadonlyMap<string, EntityProperties>,
): Map<string, Sourced<EntityRecord>[]> {
  const entities = new Map(groups.entities);
  for (const { records } of groups.relations.values()) {
    for (const r of records) {
      for (const end of [r.record.source, r.record.target]) {
        const own = groups.entities.get(end);
        if (own?.some((e) => e.chunkId === r.chunkId)) continue;
        const list = entities.get(end) ?? [];
        const creates = !own?.length && !known.has(end) && list.length === 0;
        list.push({
          chunkId: r.chunkId,
          filePath: r.filePath,
          record: {
            name: end,
            type: UNKNOWN_TYPE,
            description: creates ? r.record.description : '',
          },
          supportOnly: !creates,
        });
        entities.set(end, list);
      }
    }
  }
  return entities;
}

export const entityVectorId = (name: string) => computeMdhashId(name, 'ent-');
/** LightRAG's relation vector id: `rel-` + md5(src + tgt), ends in canonical order. */
export const relationVectorId = (a: string, b: string) => relationVectorIds(a, b).id;

/** The relation's vector id and the id of its reverse direction, which LightRAG also deletes. */
export function relationVectorIds(a: string, b: string): { id: string; reverse: string } {
  const [src, tgt] = canonicalEdge(a, b);
  return { id: computeMdhashId(src + tgt, 'rel-'), reverse: computeMdhashId(tgt + src, 'rel-') };
}

/** The properties a merge writes: every field LightRAG writes, present. */
type MergedEntity = { truncate: string } & Required<
  Pick<
    EntityProperties,
    'entity_id' | 'entity_type' | 'description' | 'source_id' | 'file_path' | 'created_at'
  >
>;
type MergedRelation = { truncate: string } & Required<
  Pick<
    RelationProperties,
    'weight' | 'keywords' | 'description' | 'source_id' | 'file_path' | 'created_at'
  >
>;

export interface PlannedNode {
  id: string;
  properties: MergedEntity;
  chunkIds: string[];
  vector: number[];
}

export interface PlannedEdge {
  pair: EdgePair;
  properties: MergedRelation;
  chunkIds: string[];
  vector: number[];
}

/** Everything a graph write needs, computed outside any transaction. */
export interface MergePlan {
  groups: RecordGroups;
  nodes: PlannedNode[];
  edges: PlannedEdge[];
  /** What the plan was computed from (empty for a rebuild: its caller checks its own). */
  points: StartingPoints;
  /** Embeddings by content, reused when an element is planned again with the same text. */
  vectors: Map<string, number[]>;
}

export interface PlanOptions {
  /** Recompute each element from the given records alone (a deletion's remaining chunks). */
  rebuild?: boolean;
  /** Summaries from the cache only (no LLM call): rebuilds, and late re-plans. */
  cacheOnly?: boolean;
}

const entityContent = (n: { id: string; properties: MergedEntity }) =>
  `${n.id}\n${n.properties.description}`;
const relationContent = (e: { pair: EdgePair; properties: MergedRelation }) =>
  `${e.properties.keywords}\t${e.pair[0]}\n${e.pair[1]}\n${e.properties.description}`;

export class GraphMerger {
  readonly #summarizer: Summarizer;
  readonly config: GraphConfig;

  constructor(summarizer: Summarizer, config: GraphConfig) {
    this.#summarizer = summarizer;
    this.config = config;
  }

  /**
   * Plans the merge of `groups` outside any transaction: reads what is stored, applies the merge
   * rules, gets summaries through the cache (they commit at once, so a retry reuses them) and
   * embeds the entity and relation rows. `only` limits the work to those element keys (a
   * re-plan); the other elements of `previous` are kept as they were planned.
   *
   * @example
   * ```ts
   * const plan = await merger.plan(s, groupExtractions(extractions));
   * await db.withTransaction(async (tx) => { if ((await merger.tryWrite(tx, s, plan)).size === 0) … });
   * ```
   */
  async plan(
    s: Storages,
    groups: RecordGroups,
    options: PlanOptions & { only?: ReadonlySet<string>; previous?: MergePlan } = {},
  ): Promise<MergePlan> {
    const rebuild = options.rebuild === true;
    const cacheOnly = rebuild || options.cacheOnly === true;
    const relations = [...groups.relations.values()];
    const names = [...new Set([...groups.entities.keys(), ...relations.flatMap((r) => r.pair)])];
    const pairs = relations.map((r) => r.pair);
    // A rebuild recomputes from its records alone: what is stored is not read.
    if (s.inTransaction) throw new TypeError('Plan outside transactions: it calls the LLM.');
    const state = rebuild ? emptyState() : await readGraphState(s, names, pairs);
    const points = rebuild ? startingPoints(state, [], []) : startingPoints(state, names, pairs);
    const wanted = (key: string) => !options.only || options.only.has(key);
    const entities = rebuild ? new Map(groups.entities) : withRelationEnds(groups, state.nodes);

    const now = Math.floor(Date.now() / 1000);
    const cache = s.llmCache;
    const nodes: Array<Omit<PlannedNode, 'vector'>> = [];
    for (const [name, records] of entities) {
      if (!wanted(nodePoint(name))) continue;
      const tracked = state.entityChunks.get(name)?.chunk_ids ?? [];
      const m = mergeEntity(name, state.nodes.get(name), tracked, records, this.config);
      const description = await this.#summarizer.describe(cache, 'entity', name, m.fragments, {
        cacheOnly,
      });
      nodes.push({
        id: name,
        chunkIds: m.chunkIds,
        properties: {
          entity_id: name,
          entity_type: m.entityType,
          description,
          source_id: m.sourceId,
          file_path: m.filePath,
          created_at: now,
          truncate: truncation(m.chunkIds, this.config.maxSourceIdsPerEntity),
        },
      });
    }
    const edges: Array<Omit<PlannedEdge, 'vector'>> = [];
    for (const { pair, records } of relations) {
      if (!wanted(edgePoint(pair))) continue;
      const stored = state.edges.get(edgeKey(...pair));
      const tracked = state.relationChunks.get(relationChunkKey(...pair))?.chunk_ids ?? [];
      const m = mergeRelation(stored, tracked, records, this.config);
      const description = await this.#summarizer.describe(
        cache,
        'relation',
        `${pair[0]} - ${pair[1]}`,
        m.fragments,
        { cacheOnly },
      );
      edges.push({
        pair,
        chunkIds: m.chunkIds,
        properties: {
          weight: m.weight,
          description,
          keywords: m.keywords,
          source_id: m.sourceId,
          file_path: m.filePath,
          created_at: now,
          truncate: truncation(m.chunkIds, this.config.maxSourceIdsPerRelation),
        },
      });
    }
    const vectors = new Map(options.previous?.vectors);
    const contents = [...nodes.map(entityContent), ...edges.map(relationContent)];
    const missing = [...new Set(contents.filter((c) => !vectors.has(c)))];
    if (missing.length > 0) {
      const embedded = await s.entitiesVdb.embedder.embed(missing);
      for (const [i, c] of missing.entries()) vectors.set(c, embedded[i]!);
    }
    const planned: MergePlan = {
      groups,
      nodes: nodes.map((n) => ({ ...n, vector: vectors.get(entityContent(n))! })),
      edges: edges.map((e) => ({ ...e, vector: vectors.get(relationContent(e))! })),
      points,
      vectors,
    };
    const previous = options.previous;
    if (!previous || !options.only) return planned;
    // A re-plan: the changed elements replace theirs; the rest keep their plan and starting point.
    const bases = new Map(previous.points.bases);
    for (const key of options.only) {
      const basis = points.bases.get(key);
      if (basis !== undefined) bases.set(key, basis);
    }
    return {
      ...planned,
      nodes: [...previous.nodes.filter((n) => !wanted(nodePoint(n.id))), ...planned.nodes],
      edges: [...previous.edges.filter((e) => !wanted(edgePoint(e.pair))), ...planned.edges],
      points: { ...previous.points, bases },
    };
  }

  /**
   * Inside the caller's transaction: takes the entity locks in key order, re-reads the plan's
   * starting points and, when none changed, writes the plan. Returns the keys of the elements
   * that changed (nothing is written then): plan them again with {@link plan}'s `only`.
   */
  async tryWrite(tx: Queryable, s: Storages, plan: MergePlan): Promise<Set<string>> {
    await lockEntities(tx, s.workspace, plan.points.names);
    const t = s.in(tx);
    const changed = await changedSince(t, plan.points);
    if (changed.size === 0) await this.write(t, plan);
    return changed;
  }

  /** Records a document's anchors (FULL_ENTITIES / FULL_RELATIONS) for a later deletion. */
  async writeAnchors(t: Storages, docId: string, groups: RecordGroups) {
    const names = [
      ...new Set([
        ...groups.entities.keys(),
        ...[...groups.relations.values()].flatMap((r) => r.pair),
      ]),
    ];
    const pairs = [...groups.relations.values()].map((r) => r.pair);
    // Sorted, as LightRAG stores them.
    names.sort(compareCodePoints);
    pairs.sort((x, y) => compareCodePoints(x[0], y[0]) || compareCodePoints(x[1], y[1]));
    await t.fullEntities.upsert([{ id: docId, entity_names: names }]);
    await t.fullRelations.upsert([{ id: docId, relation_pairs: pairs }]);
  }

  /**
   * Writes a plan's nodes, edges, tracking rows and vector rows through `t = storages.in(tx)`
   * (the caller holds the entity locks).
   */
  async write(t: Storages, plan: Pick<MergePlan, 'nodes' | 'edges'>): Promise<void> {
    if (!t.inTransaction) throw new TypeError('GraphMerger.write needs storages.in(tx).');
    const { nodes, edges } = plan;
    await t.graph.upsertNodes(nodes);
    await t.graph.upsertEdges(
      edges.map((e) => ({ source: e.pair[0], target: e.pair[1], properties: e.properties })),
    );
    await t.entityChunks.upsert(nodes.map((n) => ({ id: n.id, chunk_ids: n.chunkIds })));
    await t.relationChunks.upsert(
      edges.map((e) => ({ id: relationChunkKey(...e.pair), chunk_ids: e.chunkIds })),
    );
    await t.entitiesVdb.upsert(
      nodes.map((n) => ({
        id: entityVectorId(n.id),
        entity_name: n.id,
        content: entityContent(n),
        source_id: n.properties.source_id,
        file_path: n.properties.file_path,
        vector: n.vector,
      })),
    );
    // LightRAG deletes both directions' ids before writing the canonical one.
    await t.relationshipsVdb.delete(edges.map((e) => relationVectorIds(...e.pair).reverse));
    await t.relationshipsVdb.upsert(
      edges.map((e) => ({
        id: relationVectorId(...e.pair),
        src_id: e.pair[0],
        tgt_id: e.pair[1],
        content: relationContent(e),
        source_id: e.properties.source_id,
        file_path: e.properties.file_path,
        vector: e.vector,
      })),
    );
  }
}

/** LightRAG's `truncate` property: empty, or how the source ids were capped (oldest kept). */
function truncation(chunkIds: readonly string[], max: number): string {
  return chunkIds.length > max ? 'KEEP Old' : '';
}

function emptyState(): StoredGraphState {
  return { nodes: new Map(), edges: new Map(), entityChunks: new Map(), relationChunks: new Map() };
}
