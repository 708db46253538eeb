/**
 * Which chunks the graph elements bring into the context, as LightRAG 1.5 chooses them
 * (`_find_related_text_unit_from_entities` / `_from_relations`):
 * 1. each element's source chunk ids, in order; a chunk already taken by an earlier element (or,
 *    for relations, already chosen through the entities) is dropped, and each element's chunks
 *    are ordered by how many elements name them;
 * 2. VECTOR (`KG_CHUNK_PICK_METHOD`, the default): of all those chunks, the
 *    `RELATED_CHUNK_NUMBER × elements / 2` most similar to the question; WEIGHT (or when no chunk
 *    vector is found): linear-gradient weighted polling, `RELATED_CHUNK_NUMBER` chunks for the
 *    first element down to 1 for the last, unused quota passed on in order.
 */

import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';

/** How graph modes pick an element's chunks (LightRAG's `KG_CHUNK_PICK_METHOD`). */
export type ChunkPickMethod = 'VECTOR' | 'WEIGHT';

interface ElementChunks {
  sortedChunks: string[];
}

/** Python's `round()`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (Math.abs(diff - 0.5) > 1e-9) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** LightRAG's `pick_by_weighted_polling`. */
export function pickByWeightedPolling(
  elements: readonly ElementChunks[],
  maxRelated: number,
  minRelated = 1,
): string[] {
  if (elements.length === 0) return [];
  if (elements.length === 1) return elements[0]!.sortedChunks.slice(0, maxRelated);
  const n = elements.length;
  const expected = elements.map((_, i) =>
    roundHalfEven(maxRelated - (i / (n - 1)) * (maxRelated - minRelated)),
  );
  const selected: string[] = [];
  const used: number[] = [];
  let remaining = 0;
  for (const [i, e] of elements.entries()) {
    const actual = Math.min(expected[i]!, e.sortedChunks.length);
    selected.push(...e.sortedChunks.slice(0, actual));
    used.push(actual);
    remaining += Math.max(0, expected[i]! - actual);
  }
  for (let round = 0; round < remaining; round++) {
    const i = elements.findIndex((e, j) => used[j]! < e.sortedChunks.length);
    if (i < 0) break;
    selected.push(elements[i]!.sortedChunks[used[i]!]!);
    used[i]!++;
  }
  return selected;
}

/**
 * The chunks to take for elements (entities or relations, in rank order), given their
 * `source_id`s. `exclude`: chunks already chosen (relations exclude the entities' chunks).
 * `similarity` scores candidate chunks against the question (absent ones have no vector).
 *
 * @example
 * ```ts
 * await selectRelatedChunks(entities.map((e) => e.source_id), { relatedChunkNumber: 5, method: 'VECTOR', similarity });
 * ```
 */
export async function selectRelatedChunks(
  sourceIds: readonly string[],
  options: {
    relatedChunkNumber: number;
    method: ChunkPickMethod;
    similarity: (chunkIds: string[]) => Promise<Map<string, number>>;
    exclude?: ReadonlySet<string>;
    /** LightRAG counts relations after removing the excluded chunks, entities before. */
    countAfterExclusion?: boolean;
  },
): Promise<string[]> {
  const withChunks = sourceIds
    .map((id) =>
      id
        .split(GRAPH_FIELD_SEP)
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .filter((chunks) => chunks.length > 0);
  const occurrences = new Map<string, number>();
  let elements = withChunks.map((chunks) => {
    const own: string[] = [];
    for (const c of chunks) {
      if (options.exclude?.has(c)) continue;
      const n = (occurrences.get(c) ?? 0) + 1;
      occurrences.set(c, n);
      if (n === 1) own.push(c);
    }
    return own;
  });
  if (options.countAfterExclusion) elements = elements.filter((chunks) => chunks.length > 0);
  if (elements.length === 0) return [];
  const ranked: ElementChunks[] = elements.map((chunks) => ({
    // A stable sort, so equal counts keep their order, like Python's sorted.
    sortedChunks: [...chunks].sort((a, b) => occurrences.get(b)! - occurrences.get(a)!),
  }));
  if (options.method === 'VECTOR') {
    const candidates = [...new Set(ranked.flatMap((e) => e.sortedChunks))];
    const scores = await options.similarity(candidates);
    const count = Math.floor((options.relatedChunkNumber * elements.length) / 2);
    const picked = candidates
      .filter((c) => scores.has(c))
      .sort((a, b) => scores.get(b)! - scores.get(a)!)
      .slice(0, count);
    if (picked.length > 0) return picked;
  }
  return [...new Set(pickByWeightedPolling(ranked, options.relatedChunkNumber))];
}
