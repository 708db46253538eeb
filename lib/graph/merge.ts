/**
 * Merging extracted records into the graph, its vector rows and the chunk-tracking tables, inside
 * the caller's transaction. Many containers merge into the same entities at once, so each merge
 * first takes a transaction-scoped advisory lock per entity it touches, in one fixed order (sorted
 * lock keys), and only then reads and writes: no lost update, no lock-order deadlock. Relations
 * are covered by the locks of their two ends.
 */
import type { GraphConfig } from '../config.ts';
import type { Queryable } from '../db/database.ts';
import type { GraphProperties } from '../storage/graph.ts';
import { canonicalEdge, edgeKey } from '../storage/graph.ts';
import { relationChunkKey } from '../storage/graph-kv.ts';
import type { Storages } from '../storage/index.ts';
import { computeMdhashId } from '../text.ts';
import type { ChunkExtraction } from './extract.ts';
import { mergeEntity, mergeRelation, type Sourced, UNKNOWN_TYPE } from './merge-rules.ts';
import type { EntityRecord, RelationRecord } from './records.ts';
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
 * Takes the per-entity locks of a workspace in ascending key order. Every writer of the graph
 * (ingest merges, deletions) takes them this way, after its document lock.
 */
export async function lockEntities(
  tx: Queryable,
  workspace: string,
  names: Iterable<string>,
): Promise<void> {
  const list = [...new Set(names)];
  if (list.length === 0) return;
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT DISTINCT hashtextextended('lightrag:' || $1 || ':entity:' || n, 0) AS k
         FROM unnest($2::text[]) AS n ORDER BY k) AS keys`,
    [workspace, list],
  );
}

/**
 * The entity records plus, for each relation end that is no entity record of these chunks, a
 * record from the relation: of type UNKNOWN with the relation's description when the end is new
 * (or itself UNKNOWN), as LightRAG creates missing ends; support-only for a known entity.
 */
export function withRelationEnds(
  groups: RecordGroups,
  known: ReadonlyMap<string, GraphProperties>,
): Map<string, Sourced<EntityRecord>[]> {
  const entities = new Map(groups.entities);
  for (const { records } of groups.relations.values()) {
    for (const r of records) {
      for (const end of [r.record.source, r.record.target]) {
        const own = groups.entities.get(end);
        if (own?.some((e) => e.chunkId === r.chunkId)) continue;
        const stored = known.get(end);
        const real = (own?.length ?? 0) > 0 || (stored && stored.entity_type !== UNKNOWN_TYPE);
        const list = entities.get(end) ?? [];
        list.push({
          chunkId: r.chunkId,
          filePath: r.filePath,
          record: { name: end, type: UNKNOWN_TYPE, description: real ? '' : r.record.description },
          supportOnly: Boolean(real),
        });
        entities.set(end, list);
      }
    }
  }
  return entities;
}

/** What a merge starts from: the stored nodes, edges and chunk-tracking rows it touches. */
async function readStored(
  tx: Queryable,
  s: Storages,
  names: string[],
  pairs: Array<[string, string]>,
) {
  return {
    storedNodes: await s.graph.getNodesBatch(names, tx),
    storedEdges: await s.graph.getEdgesBatch(pairs, tx),
    entityChunks: await s.entityChunks.getMapIn(names, tx),
    relationChunks: await s.relationChunks.getMapIn(
      pairs.map((p) => relationChunkKey(...p)),
      tx,
    ),
  };
}

function nothingStored(): Awaited<ReturnType<typeof readStored>> {
  return {
    storedNodes: new Map(),
    storedEdges: new Map(),
    entityChunks: new Map(),
    relationChunks: new Map(),
  };
}

export const entityVectorId = (name: string) => computeMdhashId(name, 'ent-');
/** LightRAG's relation vector id: `rel-` + md5(src + tgt), ends in canonical order. */
export const relationVectorId = (a: string, b: string) => relationVectorIds(a, b).id;

/** The relation's vector id and the id of its reverse direction, which LightRAG also deletes. */
export function relationVectorIds(a: string, b: string): { id: string; reverse: string } {
  const [src, tgt] = canonicalEdge(a, b);
  return { id: computeMdhashId(src + tgt, 'rel-'), reverse: computeMdhashId(tgt + src, 'rel-') };
}

export class GraphMerger {
  readonly #summarizer: Summarizer;
  readonly config: GraphConfig;

  constructor(summarizer: Summarizer, config: GraphConfig) {
    this.#summarizer = summarizer;
    this.config = config;
  }

  /** Merges one document's extractions and records its anchors (FULL_ENTITIES / FULL_RELATIONS). */
  async merge(
    tx: Queryable,
    s: Storages,
    docId: string,
    extractions: readonly ChunkExtraction[],
  ): Promise<MergeStats> {
    const groups = groupExtractions(extractions);
    const stats = await this.apply(tx, s, groups);
    const names = [
      ...new Set([
        ...groups.entities.keys(),
        ...[...groups.relations.values()].flatMap((r) => r.pair),
      ]),
    ];
    const pairs = [...groups.relations.values()].map((r) => r.pair);
    await s.fullEntities.upsert([{ id: docId, entity_names: names }], tx);
    await s.fullRelations.upsert([{ id: docId, relation_pairs: pairs }], tx);
    return stats;
  }

  /**
   * Writes the groups. `rebuild` recomputes each element from the given records alone (a
   * deletion's remaining chunks) with cached summaries only; otherwise records merge into what
   * is stored.
   */
  async apply(
    tx: Queryable,
    s: Storages,
    groups: RecordGroups,
    options: { rebuild?: boolean } = {},
  ): Promise<MergeStats> {
    const rebuild = options.rebuild === true;
    const relations = [...groups.relations.values()];
    const names = new Set([...groups.entities.keys(), ...relations.flatMap((r) => r.pair)]);
    await lockEntities(tx, s.workspace, names);
    // A rebuild recomputes from its records alone: what is stored is not read.
    const { storedNodes, storedEdges, entityChunks, relationChunks } = rebuild
      ? nothingStored()
      : await readStored(
          tx,
          s,
          [...names],
          relations.map((r) => r.pair),
        );

    const entities = rebuild ? new Map(groups.entities) : withRelationEnds(groups, storedNodes);

    const now = Math.floor(Date.now() / 1000);
    const cache = s.llmCache;
    const nodes: Array<{ id: string; properties: GraphProperties; chunkIds: string[] }> = [];
    for (const [name, records] of entities) {
      const stored = storedNodes.get(name);
      const tracked = entityChunks.get(name)?.chunk_ids ?? [];
      const m = mergeEntity(name, stored, tracked, records, this.config);
      const description = await this.#summarizer.describe(tx, cache, 'entity', name, m.fragments, {
        cacheOnly: rebuild,
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
        },
      });
    }
    const edges: Array<{
      pair: [string, string];
      properties: GraphProperties;
      chunkIds: string[];
    }> = [];
    for (const { pair, records } of relations) {
      const stored = storedEdges.get(edgeKey(...pair));
      const tracked = relationChunks.get(relationChunkKey(...pair))?.chunk_ids ?? [];
      const m = mergeRelation(stored, tracked, records, this.config);
      const description = await this.#summarizer.describe(
        tx,
        cache,
        'relation',
        `${pair[0]} - ${pair[1]}`,
        m.fragments,
        { cacheOnly: rebuild },
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
        },
      });
    }
    await this.#write(tx, s, nodes, edges);
    return { entities: nodes.length, relations: edges.length };
  }

  async #write(
    tx: Queryable,
    s: Storages,
    nodes: Array<{ id: string; properties: GraphProperties; chunkIds: string[] }>,
    edges: Array<{ pair: [string, string]; properties: GraphProperties; chunkIds: string[] }>,
  ): Promise<void> {
    await s.graph.upsertNodes(nodes, tx);
    await s.graph.upsertEdges(
      edges.map((e) => ({ source: e.pair[0], target: e.pair[1], properties: e.properties })),
      tx,
    );
    await s.entityChunks.upsert(
      nodes.map((n) => ({ id: n.id, chunk_ids: n.chunkIds })),
      tx,
    );
    await s.relationChunks.upsert(
      edges.map((e) => ({ id: relationChunkKey(...e.pair), chunk_ids: e.chunkIds })),
      tx,
    );
    await s.entitiesVdb.upsert(
      nodes.map((n) => ({
        id: entityVectorId(n.id),
        entity_name: n.id,
        content: `${n.id}\n${n.properties.description}`,
        source_id: String(n.properties.source_id),
        file_path: String(n.properties.file_path),
      })),
      tx,
    );
    // LightRAG deletes both directions' ids before writing the canonical one.
    await s.relationshipsVdb.delete(
      edges.map((e) => relationVectorIds(...e.pair).reverse),
      tx,
    );
    await s.relationshipsVdb.upsert(
      edges.map((e) => ({
        id: relationVectorId(...e.pair),
        src_id: e.pair[0],
        tgt_id: e.pair[1],
        content: `${e.properties.keywords}\t${e.pair[0]}\n${e.pair[1]}\n${e.properties.description}`,
        source_id: String(e.properties.source_id),
        file_path: String(e.properties.file_path),
      })),
      tx,
    );
  }
}
