/**
 * LightRAG's merge rules, as pure functions: how new records from some chunks combine with what
 * an entity or relation already holds. The database work (locks, reads, writes) is merge.ts's;
 * the LLM summary of long descriptions is decided by the caller from `fragments`.
 */
import type { GraphConfig } from '../config.ts';
import { FILE_PATH_TRUNCATED, GRAPH_FIELD_SEP, UNKNOWN_TYPE } from '../lightrag-constants.ts';

export { FILE_PATH_TRUNCATED } from '../lightrag-constants.ts';

import type { EntityProperties, RelationProperties } from '../storage/graph.ts';
import type { EntityRecord, RelationRecord } from './records.ts';

/** A record with where it came from. */
export interface Sourced<R> {
  record: R;
  chunkId: string;
  filePath: string | null;
  /**
   * The chunk names this entity only as a relation's end: it supports the entity (its id and file
   * are tracked, so deleting another document cannot orphan the relation) without a description
   * or a type vote.
   */
  supportOnly?: boolean;
}

export const splitField = (value: string | undefined): string[] =>
  value !== undefined && value.length > 0
    ? value.split(GRAPH_FIELD_SEP).filter((s) => s.length > 0)
    : [];

export function orderedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** Stored fragments first, then new ones (longest first), without repeats. */
export function mergeFragments(stored: readonly string[], fresh: readonly string[]): string[] {
  const sortedFresh = [...fresh].sort((a, b) => b.length - a.length);
  return orderedUnique([...stored, ...sortedFresh].filter((d) => d.length > 0));
}

/** The most frequent type among the new records and the stored one (counted once); ties go to the first new. */
export function voteEntityType(stored: string | undefined, fresh: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const t of [...fresh, ...(stored ? [stored] : [])]) counts.set(t, (counts.get(t) ?? 0) + 1);
  let best = fresh[0] ?? stored ?? UNKNOWN_TYPE;
  for (const [type, n] of counts) if (n > (counts.get(best) ?? 0)) best = type;
  return best;
}

export function mergeFilePaths(
  stored: string | undefined,
  fresh: ReadonlyArray<string | null>,
  max: number,
): string {
  const all = orderedUnique(
    [...splitField(stored), ...fresh.map((p) => p ?? 'unknown_source')].filter(
      (p) => p !== FILE_PATH_TRUNCATED,
    ),
  );
  return (all.length > max ? [...all.slice(0, max), FILE_PATH_TRUNCATED] : all).join(
    GRAPH_FIELD_SEP,
  );
}

/** The supporting chunks of an entity or relation after a merge, by LightRAG's limits. */
export interface MergedElement {
  /** Every supporting chunk, oldest first (ENTITY_CHUNKS / RELATION_CHUNKS). */
  chunkIds: string[];
  /** The chunk ids kept on the graph and vector rows (the oldest, up to the cap). */
  sourceId: string;
  fragments: string[];
  filePath: string;
}

function mergeCommon<R extends { description: string }>(
  storedChunkIds: readonly string[],
  storedDescription: string | undefined,
  storedFilePath: string | undefined,
  records: ReadonlyArray<Sourced<R>>,
  maxSourceIds: number,
  config: Pick<GraphConfig, 'maxFilePaths'>,
): MergedElement {
  const chunkIds = orderedUnique([...storedChunkIds, ...records.map((r) => r.chunkId)]);
  return {
    chunkIds,
    sourceId: chunkIds.slice(0, maxSourceIds).join(GRAPH_FIELD_SEP),
    fragments: mergeFragments(
      splitField(storedDescription),
      records.filter((r) => !r.supportOnly).map((r) => r.record.description),
    ),
    // A chunk naming the entity only as a relation end supports it without adding its file,
    // as in LightRAG (its chunk id is tracked all the same).
    filePath: mergeFilePaths(
      storedFilePath,
      records.filter((r) => !r.supportOnly).map((r) => r.filePath),
      config.maxFilePaths,
    ),
  };
}

/** Merge of an entity's new records into its stored node (or a new one). */
export function mergeEntity(
  name: string,
  stored: EntityProperties | undefined,
  storedChunkIds: readonly string[],
  records: ReadonlyArray<Sourced<EntityRecord>>,
  config: Pick<GraphConfig, 'maxFilePaths' | 'maxSourceIdsPerEntity'>,
): MergedElement & { entityType: string; name: string } {
  const common = mergeCommon(
    storedChunkIds.length > 0 ? storedChunkIds : splitField(stored?.source_id),
    stored?.description,
    stored?.file_path,
    records,
    config.maxSourceIdsPerEntity,
    config,
  );
  const storedType =
    stored?.entity_type && stored.entity_type !== UNKNOWN_TYPE ? stored.entity_type : undefined;
  return {
    ...common,
    name,
    entityType: voteEntityType(
      storedType,
      records.filter((r) => !r.supportOnly).map((r) => r.record.type),
    ),
  };
}

/**
 * Merge of a relation's new records. The weight grows by the records of chunks not already
 * counted, so merging the same chunk twice (a redelivered message) does not inflate it.
 */
export function mergeRelation(
  stored: RelationProperties | undefined,
  storedChunkIds: readonly string[],
  records: ReadonlyArray<Sourced<RelationRecord>>,
  config: Pick<GraphConfig, 'maxFilePaths' | 'maxSourceIdsPerRelation'>,
): MergedElement & { weight: number; keywords: string } {
  const known = new Set(storedChunkIds.length > 0 ? storedChunkIds : splitField(stored?.source_id));
  const fresh = records.filter((r) => !known.has(r.chunkId));
  const common = mergeCommon(
    [...known],
    stored?.description,
    stored?.file_path,
    fresh,
    config.maxSourceIdsPerRelation,
    config,
  );
  const storedWeight = stored?.weight ?? 0;
  const keywords = orderedUnique(
    [...(stored?.keywords ?? '').split(','), ...fresh.flatMap((r) => r.record.keywords.split(','))]
      .map((k) => k.trim())
      .filter(Boolean),
  ).sort();
  return {
    ...common,
    weight: storedWeight + fresh.reduce((sum, r) => sum + r.record.weight, 0),
    keywords: keywords.join(','),
  };
}
