/**
 * Merging extracted records into the graph, its vector rows and the chunk-tracking tables, as
 * plan / apply. The plan — stored state read, merge rules, LLM summaries, embeddings — runs
 * outside any transaction, so no lock or pooled connection is held across a network call. The
 * apply step runs in the caller's short transaction: it takes a transaction-scoped advisory lock
 * per entity in one fixed order (sorted lock keys; relations are covered by their two ends) and
 * reads the elements again. What nobody changed is written as planned; what another writer
 * changed is merged again under the locks by the LLM-free merge rules (fragments, chunk ids,
 * weights, keywords and files all combine), so a hot element costs a few statements, never a
 * rollback, a re-plan or a repeated summary. Summaries and vectors that fall behind are brought
 * up to date by one lease holder per element (lib/graph/upkeep.ts).
 */
import { randomUUID } from 'node:crypto';
import type { GraphConfig } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import { lockEntities } from '../db/locks.ts';
import { GRAPH_FIELD_SEP, UNKNOWN_TYPE } from '../lightrag-constants.ts';
import type { EntityProperties, RelationProperties } from '../storage/graph.ts';
import { canonicalEdge, compareCodePoints, edgeKey } from '../storage/graph.ts';
import { relationChunkKey } from '../storage/graph-kv.ts';
import { type UpkeepElement, upkeepKey } from '../storage/graph-upkeep.ts';
import type { Storages } from '../storage/index.ts';
import { computeMdhashId } from '../text.ts';
import type { ChunkExtraction } from './extract.ts';
import { mergeEntity, mergeRelation, type Sourced, splitField } from './merge-rules.ts';
import type { EntityRecord, RelationRecord } from './records.ts';
import {
  type EdgePair,
  edgePoint,
  nodePoint,
  readGraphState,
  type StartingPoints,
  type StoredGraphState,
  startingPoints,
} from './starting-points.ts';
import type { Summarizer } from './summarize.ts';

/** A document's extracted records grouped by entity name and by relation pair. */
export interface RecordGroups {
  entities: Map<string, Sourced<EntityRecord>[]>;
  relations: Map<string, { pair: [string, string]; records: Sourced<RelationRecord>[] }>;
}

/** How many entities and relations a merge wrote. */
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

/** An LLM summary made while planning, and the fragments it stands for. */
export interface PlannedSummary {
  covers: string[];
  text: string;
}

/** An entity as it will be written: merged properties, chunks, and its vector. */
export interface PlannedNode {
  id: string;
  properties: MergedEntity;
  chunkIds: string[];
  vector: number[];
  summary?: PlannedSummary;
  /** Left at the summary threshold as planned (its summary is another writer's to make). */
  due?: boolean;
}

/** A relation as it will be written: merged properties, chunks, and its vector. */
export interface PlannedEdge {
  pair: EdgePair;
  properties: MergedRelation;
  chunkIds: string[];
  vector: number[];
  summary?: PlannedSummary;
  /** Left at the summary threshold as planned (its summary is another writer's to make). */
  due?: boolean;
}

/** Everything a graph write needs, computed outside any transaction. */
export interface MergePlan {
  groups: RecordGroups;
  nodes: PlannedNode[];
  edges: PlannedEdge[];
  /** What the plan was computed from (empty for a rebuild: its caller checks its own). */
  points: StartingPoints;
  /** Embeddings by content. */
  vectors: Map<string, number[]>;
  /** Owner of the summary leases this plan took (lib/storage/graph-upkeep.ts). */
  owner: string;
  /** Elements whose summary lease this plan holds: ended in the apply transaction. */
  leased: UpkeepElement[];
}

/** How a merge plan is made. */
export interface PlanOptions {
  /** Recompute each element from the given records alone (a deletion's remaining chunks). */
  rebuild?: boolean;
}

/** What an apply step wrote, and what it left for the upkeep step. */
export interface ApplyResult {
  /** Elements another writer changed between plan and apply: merged again under the locks. */
  contended: number;
  /** Elements whose summary or vector is now due (lib/graph/upkeep.ts brings them up to date). */
  due: UpkeepElement[];
}

/** How long a summary lease taken while planning lasts: a crashed planner delays, never blocks. */
export const SUMMARY_LEASE_SECONDS = 120;

export const entityContent = (n: { id: string; properties: { description: string } }) =>
  `${n.id}\n${n.properties.description}`;
export const relationContent = (e: {
  pair: EdgePair;
  properties: { keywords: string; description: string };
}) => `${e.properties.keywords}\t${e.pair[0]}\n${e.pair[1]}\n${e.properties.description}`;

export const entityElement = (name: string): UpkeepElement => ({
  kind: 'entity',
  source: name,
  target: '',
});
export const relationElement = (pair: EdgePair): UpkeepElement => ({
  kind: 'relation',
  source: pair[0],
  target: pair[1],
});

/**
 * The description fragments once a summary of `summary.covers` replaces those fragments in
 * `current`: the summary first, then what others appended since (a summary stands for fragments
 * wherever they all still are; when some are gone — a deletion rebuilt the element — the
 * summary is not used and `current` stays as it is).
 */
export function withSummary(current: readonly string[], summary: PlannedSummary | undefined) {
  if (!summary) return { fragments: [...current], used: false };
  const present = new Set(current);
  if (!summary.covers.every((f) => present.has(f))) return { fragments: [...current], used: false };
  const covered = new Set(summary.covers);
  return { fragments: [summary.text, ...current.filter((f) => !covered.has(f))], used: true };
}

export class GraphMerger {
  readonly #summarizer: Summarizer;
  readonly config: GraphConfig;
  /** Applies, and elements found changed by another writer at apply time (benchmarks, logs). */
  readonly counters = { applies: 0, contended: 0 };

  constructor(summarizer: Summarizer, config: GraphConfig) {
    this.#summarizer = summarizer;
    this.config = config;
  }

  get summarizer(): Summarizer {
    return this.#summarizer;
  }

  /**
   * Plans the merge of `groups` outside any transaction: reads what is stored, applies the merge
   * rules, gets summaries through the cache (they commit at once, so a retry reuses them) and
   * embeds the entity and relation rows. A summary is made only by the holder of the element's
   * lease: when another writer is summarising the element, this plan appends its fragments and
   * leaves the summary to the lease holder (no summary is ever made twice for one change).
   *
   * @example
   * ```ts
   * const plan = await merger.plan(s, groupExtractions(extractions));
   * const { due } = await db.withTransaction((tx) => merger.apply(tx, s, plan));
   * await upkeep.refresh(s, due);
   * ```
   */
  async plan(s: Storages, groups: RecordGroups, options: PlanOptions = {}): Promise<MergePlan> {
    const rebuild = options.rebuild === true;
    const relations = [...groups.relations.values()];
    const names = [...new Set([...groups.entities.keys(), ...relations.flatMap((r) => r.pair)])];
    const pairs = relations.map((r) => r.pair);
    if (s.inTransaction) throw new TypeError('Plan outside transactions: it calls the LLM.');
    // A rebuild recomputes from its records alone: what is stored is not read.
    const state = rebuild ? emptyState() : await readGraphState(s, names, pairs);
    const points = rebuild ? startingPoints(state, [], []) : startingPoints(state, names, pairs);
    const owner = randomUUID();
    const leased: UpkeepElement[] = [];
    // Summaries: the cache only for a rebuild (no LLM call); otherwise under the element's lease.
    const summarise = async (element: UpkeepElement, name: string, fragments: string[]) => {
      if (!(await this.#summarizer.needsSummary(fragments))) return undefined;
      const kind = element.kind;
      if (rebuild) {
        const text = await this.#summarizer.summarize(s.llmCache, kind, name, fragments, {
          cacheOnly: true,
        });
        return { covers: fragments, text };
      }
      if (!(await s.graphUpkeep.claim(element, owner, SUMMARY_LEASE_SECONDS))) return undefined;
      leased.push(element);
      // Read after the claim: a summary of a state another writer already moved past (its
      // lease just ended) would go unused. Then append, and leave the summary to the upkeep.
      const stored =
        kind === 'entity'
          ? state.nodes.get(element.source)
          : state.edges.get(edgeKey(element.source, element.target));
      const now =
        kind === 'entity'
          ? await s.graph.getNode(element.source)
          : await s.graph.getEdge(element.source, element.target);
      if ((now?.description ?? null) !== (stored?.description ?? null)) return undefined;
      const text = await this.#summarizer.summarize(s.llmCache, kind, name, fragments);
      return { covers: fragments, text };
    };
    const computed = await this.#compute(state, groups, { rebuild, summarise });
    const vectors = new Map<string, number[]>();
    const contents = [...computed.nodes.map(entityContent), ...computed.edges.map(relationContent)];
    const missing = [...new Set(contents)];
    if (missing.length > 0) {
      const embedded = await s.entitiesVdb.embedder.embed(missing);
      for (const [i, c] of missing.entries()) vectors.set(c, embedded[i]!);
    }
    // Whether each planned description is left at the summary threshold, decided here so the
    // apply step does not count tokens under the locks for elements nobody changed.
    const leftDue = (description: string) => this.#summarizer.needsSummary(splitField(description));
    return {
      groups,
      nodes: await Promise.all(
        computed.nodes.map(async (n) => ({
          ...n,
          vector: vectors.get(entityContent(n))!,
          due: await leftDue(n.properties.description),
        })),
      ),
      edges: await Promise.all(
        computed.edges.map(async (e) => ({
          ...e,
          vector: vectors.get(relationContent(e))!,
          due: await leftDue(e.properties.description),
        })),
      ),
      points,
      vectors,
      owner,
      leased,
    };
  }

  /**
   * The merge rules over `state` (LLM-free but for `summarise`, which returns the summary to use
   * for an element's fragments, if any). Used by {@link plan} and, under the entity locks, by
   * {@link apply} for elements another writer changed meanwhile.
   */
  async #compute(
    state: StoredGraphState,
    groups: RecordGroups,
    options: {
      rebuild: boolean;
      only?: ReadonlySet<string>;
      summarise: (
        element: UpkeepElement,
        name: string,
        fragments: string[],
      ) => Promise<PlannedSummary | undefined>;
    },
  ) {
    const wanted = (key: string) => !options.only || options.only.has(key);
    const entities = options.rebuild
      ? new Map(groups.entities)
      : withRelationEnds(groups, state.nodes);
    const now = Math.floor(Date.now() / 1000);
    const nodes: Array<Omit<PlannedNode, 'vector'>> = [];
    for (const [name, records] of entities) {
      if (!wanted(nodePoint(name))) continue;
      const tracked = state.entityChunks.get(name)?.chunk_ids ?? [];
      const m = mergeEntity(name, state.nodes.get(name), tracked, records, this.config);
      const summary = await options.summarise(entityElement(name), name, m.fragments);
      nodes.push({
        id: name,
        chunkIds: m.chunkIds,
        ...(summary ? { summary } : {}),
        properties: {
          entity_id: name,
          entity_type: m.entityType,
          description: summary?.text ?? m.fragments.join(GRAPH_FIELD_SEP),
          source_id: m.sourceId,
          file_path: m.filePath,
          created_at: now,
          truncate: truncation(m.chunkIds, this.config.maxSourceIdsPerEntity),
        },
      });
    }
    const edges: Array<Omit<PlannedEdge, 'vector'>> = [];
    for (const { pair, records } of groups.relations.values()) {
      if (!wanted(edgePoint(pair))) continue;
      const stored = state.edges.get(edgeKey(...pair));
      const tracked = state.relationChunks.get(relationChunkKey(...pair))?.chunk_ids ?? [];
      const m = mergeRelation(stored, tracked, records, this.config);
      const label = `${pair[0]} - ${pair[1]}`;
      const summary = await options.summarise(relationElement(pair), label, m.fragments);
      edges.push({
        pair,
        chunkIds: m.chunkIds,
        ...(summary ? { summary } : {}),
        properties: {
          weight: m.weight,
          description: summary?.text ?? m.fragments.join(GRAPH_FIELD_SEP),
          keywords: m.keywords,
          source_id: m.sourceId,
          file_path: m.filePath,
          created_at: now,
          truncate: truncation(m.chunkIds, this.config.maxSourceIdsPerRelation),
        },
      });
    }
    return { nodes, edges };
  }

  /**
   * Inside the caller's transaction: takes the entity locks in key order and reads the plan's
   * elements again. Elements nobody changed since the plan are written as planned (LightRAG's
   * merge exactly); elements another writer changed are merged again from what is stored now —
   * the merge rules need no LLM: fragments, chunk ids, weights, keywords and files combine —
   * reusing the plan's summary where the fragments it stands for are all still there. Nothing is
   * rolled back or planned again. Elements left above the summary threshold, or whose vector no
   * longer matches their text, are marked due for {@link GraphUpkeep}; the plan's summary
   * leases end here, in the same transaction.
   */
  async apply(tx: Queryable, s: Storages, plan: MergePlan): Promise<ApplyResult> {
    await lockEntities(tx, s.workspace, plan.points.names);
    const t = s.in(tx);
    const state = await readGraphState(t, plan.points.names, plan.points.pairs);
    const now = startingPoints(state, plan.points.names, plan.points.pairs);
    const changed = new Set<string>();
    for (const [key, basis] of plan.points.bases) {
      if (now.bases.get(key) !== basis) changed.add(key);
    }
    const plannedNodes = new Map(plan.nodes.map((n) => [nodePoint(n.id), n]));
    const plannedEdges = new Map(plan.edges.map((e) => [edgePoint(e.pair), e]));
    const again =
      changed.size === 0
        ? { nodes: [], edges: [] }
        : await this.#compute(state, plan.groups, {
            rebuild: false,
            only: changed,
            summarise: async (element, _name, fragments) => {
              const key =
                element.kind === 'entity'
                  ? nodePoint(element.source)
                  : edgePoint([element.source, element.target]);
              const planned = plannedNodes.get(key)?.summary ?? plannedEdges.get(key)?.summary;
              const merged = withSummary(fragments, planned);
              if (!merged.used) return undefined;
              // The summary stands for what it covers; later fragments follow it.
              return { covers: fragments, text: merged.fragments.join(GRAPH_FIELD_SEP) };
            },
          });
    const due: UpkeepElement[] = [];
    const settle = async (
      element: UpkeepElement,
      planned: { vector: number[] } | undefined,
      description: string,
      content: string,
    ) => {
      const stale = planned === undefined || plan.vectors.get(content) === undefined;
      if (stale || (await this.#summarizer.needsSummary(splitField(description)))) {
        due.push(element);
      }
      return plan.vectors.get(content) ?? planned?.vector;
    };
    const nodes: PlannedNode[] = [];
    for (const n of plan.nodes) {
      if (!changed.has(nodePoint(n.id))) {
        nodes.push(n);
        if (n.due) due.push(entityElement(n.id));
      }
    }
    for (const n of again.nodes) {
      const planned = plannedNodes.get(nodePoint(n.id));
      const content = entityContent(n);
      const vector = await settle(entityElement(n.id), planned, n.properties.description, content);
      // A stale vector is the planned one: close to the text, and brought up to date by the upkeep.
      if (vector) nodes.push({ ...n, vector });
    }
    const edges: PlannedEdge[] = [];
    for (const e of plan.edges) {
      if (!changed.has(edgePoint(e.pair))) {
        edges.push(e);
        if (e.due) due.push(relationElement(e.pair));
      }
    }
    for (const e of again.edges) {
      const planned = plannedEdges.get(edgePoint(e.pair));
      const content = relationContent(e);
      const vector = await settle(
        relationElement(e.pair),
        planned,
        e.properties.description,
        content,
      );
      if (vector) edges.push({ ...e, vector });
    }
    await this.write(t, { nodes, edges });
    await t.graphUpkeep.markDue(due);
    const dueKeys = new Set(due.map(upkeepKey));
    for (const element of plan.leased) {
      await t.graphUpkeep.settle(element, plan.owner, dueKeys.has(upkeepKey(element)));
    }
    this.counters.applies++;
    this.counters.contended += changed.size;
    return { contended: changed.size, due };
  }

  /**
   * A rebuild's elements computed again under the entity locks, from records read there (a
   * deletion whose elements another writer changed since it was planned): cache-only summaries,
   * no LLM or embedding call. Vectors come from `previous` by text, else the element's planned
   * one; elements whose text has no vector yet are returned in `due`.
   */
  async rebuildUnderLocks(
    t: Storages,
    groups: RecordGroups,
    previous: Pick<MergePlan, 'nodes' | 'edges' | 'vectors'>,
  ): Promise<{ plan: Pick<MergePlan, 'nodes' | 'edges'>; due: UpkeepElement[] }> {
    if (!t.inTransaction) throw new TypeError('rebuildUnderLocks needs storages.in(tx).');
    const computed = await this.#compute(emptyState(), groups, {
      rebuild: true,
      summarise: async (element, name, fragments) => {
        if (!(await this.#summarizer.needsSummary(fragments))) return undefined;
        const text = await this.#summarizer.summarize(t.llmCache, element.kind, name, fragments, {
          cacheOnly: true,
        });
        return { covers: fragments, text };
      },
    });
    const due: UpkeepElement[] = [];
    const plannedNode = new Map(previous.nodes.map((n) => [n.id, n.vector]));
    const plannedEdge = new Map(previous.edges.map((e) => [edgeKey(...e.pair), e.vector]));
    // Elements the plan did not rebuild keep their stored vector until the upkeep embeds them.
    const storedNodes = await t.entitiesVdb.getVectorsByIds(
      computed.nodes.filter((n) => !plannedNode.has(n.id)).map((n) => entityVectorId(n.id)),
    );
    for (const n of computed.nodes) {
      const v = storedNodes.get(entityVectorId(n.id));
      if (v) plannedNode.set(n.id, v);
    }
    const storedEdges = await t.relationshipsVdb.getVectorsByIds(
      computed.edges
        .filter((e) => !plannedEdge.has(edgeKey(...e.pair)))
        .map((e) => relationVectorId(...e.pair)),
    );
    for (const e of computed.edges) {
      const v = storedEdges.get(relationVectorId(...e.pair));
      if (v) plannedEdge.set(edgeKey(...e.pair), v);
    }
    const nodes: PlannedNode[] = [];
    for (const n of computed.nodes) {
      const vector = previous.vectors.get(entityContent(n)) ?? plannedNode.get(n.id);
      if (!previous.vectors.has(entityContent(n))) due.push(entityElement(n.id));
      if (vector) nodes.push({ ...n, vector });
    }
    const edges: PlannedEdge[] = [];
    for (const e of computed.edges) {
      const vector =
        previous.vectors.get(relationContent(e)) ?? plannedEdge.get(edgeKey(...e.pair));
      if (!previous.vectors.has(relationContent(e))) due.push(relationElement(e.pair));
      if (vector) edges.push({ ...e, vector });
    }
    return { plan: { nodes, edges }, due };
  }

  /** Ends the summary leases of a plan that will not be applied (best effort). */
  async releaseLeases(s: Storages, plan: MergePlan | undefined): Promise<void> {
    for (const element of plan?.leased ?? []) {
      await s.graphUpkeep.release(element, plan!.owner).catch(() => undefined);
    }
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
