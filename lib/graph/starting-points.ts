/**
 * What a graph write was planned from. Merges and deletions are planned outside any transaction
 * (reads, LLM summaries, embeddings) and applied in a short one; between the two another
 * container may have written the same entities. Each planned element records its starting point
 * — a hash of its stored properties and tracked chunk ids — and the apply step re-reads them
 * under the entity locks: an element that changed is planned again instead of overwriting.
 */
import { type EntityProperties, edgeKey, type RelationProperties } from '../storage/graph.ts';
import { type ChunkTrackingRecord, relationChunkKey } from '../storage/graph-kv.ts';
import type { Storages } from '../storage/index.ts';
import { md5 } from '../text.ts';

/** A relation's two entity names. */
export type EdgePair = [string, string];

/** The stored nodes, edges and chunk-tracking rows of a set of entities and relations. */
export interface StoredGraphState {
  nodes: Map<string, EntityProperties>;
  /** Keyed by {@link edgeKey}. */
  edges: Map<string, RelationProperties>;
  entityChunks: Map<string, ChunkTrackingRecord>;
  /** Keyed by {@link relationChunkKey}. */
  relationChunks: Map<string, ChunkTrackingRecord>;
}

/** Element keys of starting points: entities and relations cannot collide. */
export const nodePoint = (name: string) => `n:${name}`;
export const edgePoint = (pair: EdgePair) => `e:${edgeKey(...pair)}`;

/** The starting points of a plan, by element key. */
export interface StartingPoints {
  names: string[];
  pairs: EdgePair[];
  bases: Map<string, string>;
}

/** Reads through `s` — the pool, or a transaction when `s` came from `storages.in(tx)`. */
export async function readGraphState(
  s: Storages,
  names: readonly string[],
  pairs: readonly EdgePair[],
): Promise<StoredGraphState> {
  // One after the other: a transaction's statements share one connection.
  return {
    nodes: await s.graph.getNodesBatch(names),
    edges: await s.graph.getEdgesBatch(pairs),
    entityChunks: await s.entityChunks.getMapIn(names),
    relationChunks: await s.relationChunks.getMapIn(pairs.map((p) => relationChunkKey(...p))),
  };
}

const hash = (value: unknown) => md5(JSON.stringify(value ?? null));

/** The starting point of every named entity and relation in `state` (absent ones included). */
export function startingPoints(
  state: StoredGraphState,
  names: readonly string[],
  pairs: readonly EdgePair[],
): StartingPoints {
  const bases = new Map<string, string>();
  for (const name of names) {
    bases.set(
      nodePoint(name),
      hash([state.nodes.get(name), state.entityChunks.get(name)?.chunk_ids]),
    );
  }
  for (const pair of pairs) {
    bases.set(
      edgePoint(pair),
      hash([
        state.edges.get(edgeKey(...pair)),
        state.relationChunks.get(relationChunkKey(...pair))?.chunk_ids,
      ]),
    );
  }
  return { names: [...new Set(names)], pairs: [...pairs], bases };
}

/**
 * The element keys whose stored state differs from `points`. Call it with `storages.in(tx)`
 * under the entity locks of `points.names`: then nothing changes between this read and the
 * writes that follow.
 */
export async function changedSince(t: Storages, points: StartingPoints): Promise<Set<string>> {
  const now = startingPoints(
    await readGraphState(t, points.names, points.pairs),
    points.names,
    points.pairs,
  );
  const changed = new Set<string>();
  for (const [key, basis] of points.bases) {
    if (now.bases.has(key) && now.bases.get(key) !== basis) changed.add(key);
  }
  return changed;
}
