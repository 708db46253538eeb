/**
 * The key-value tables LightRAG keeps beside its graph: per document, the entities and relations
 * it produced (FULL_ENTITIES / FULL_RELATIONS, the "anchors" deletion starts from), and per entity
 * or relation, the complete list of chunks that support it (ENTITY_CHUNKS / RELATION_CHUNKS; the
 * graph and vector copies are capped, these are not).
 */
import type { Database } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { toJsonParam } from '../text.ts';
import { canonicalEdge } from './graph.ts';
import { KvStorage } from './kv.ts';
import { TABLES } from './tables.ts';
import { asJsonb, type ColumnSpec, epochColumn } from './workspace-table.ts';

/** LightRAG's key of a relation in RELATION_CHUNKS: both ends, sorted, joined with `<SEP>`. */
export function relationChunkKey(a: string, b: string): string {
  return canonicalEdge(a, b).join(GRAPH_FIELD_SEP);
}

/** A document's entities (LIGHTRAG_FULL_ENTITIES). */
export interface FullEntitiesRecord {
  id: string;
  entity_names: string[];
  count?: number;
}
/** A document's relations (LIGHTRAG_FULL_RELATIONS). */
export interface FullRelationsRecord {
  id: string;
  relation_pairs: Array<[string, string]>;
  count?: number;
}
/** The chunks supporting an entity or relation (LIGHTRAG_ENTITY_CHUNKS / RELATION_CHUNKS). */
export interface ChunkTrackingRecord {
  id: string;
  chunk_ids: string[];
  count?: number;
}

const TIMES = `${epochColumn('create_time')}, ${epochColumn('update_time')}`;

function listColumns<R extends { id: string }>(
  field: string,
  list: (r: R) => unknown[],
): ColumnSpec<R>[] {
  return [
    { name: field, arrayType: 'text', expression: asJsonb, value: (r) => toJsonParam(list(r)) },
    { name: 'count', arrayType: 'int4', value: (r) => list(r).length },
  ];
}

function requireList(record: { id: string }, field: string, items: unknown): void {
  if (!Array.isArray(items)) {
    throw new ValidationError(`Record ${record.id}: ${field} must be an array.`, {
      id: record.id,
      field,
    });
  }
}

/** A JSON list per id; the SELECT reads it back as `field` with its `count`. */
abstract class ListStorage<T extends { id: string }> extends KvStorage<T> {
  protected abstract readonly field: string;
  protected override readonly maxIdLength: number = 512;

  protected mapRow(row: Record<string, unknown>) {
    return {
      id: row.id as string,
      [this.field]: row[this.field] ?? [],
      count: row.count as number,
      create_time: row.create_time as number,
      update_time: row.update_time as number,
    } as unknown as T & { create_time: number; update_time: number };
  }

  protected validate(record: T): void {
    requireList(record, this.field, (record as Record<string, unknown>)[this.field]);
  }

  /** Rows by id, as a map (inside `storages.in(tx)`, it sees the transaction's writes). */
  async getMapIn(ids: readonly string[]): Promise<Map<string, T>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.q.query(
      `SELECT ${this.selectList} FROM ${this.table} WHERE workspace = $1 AND id = ANY($2::text[])`,
      [this.workspace, [...new Set(ids)]],
    );
    return new Map(rows.map((row) => [row.id as string, this.mapRow(row)]));
  }
}

export class FullEntitiesStorage extends ListStorage<FullEntitiesRecord> {
  readonly namespace = 'full_entities';
  protected readonly field = 'entity_names';
  protected override readonly maxIdLength = 255;
  protected readonly selectList = `id, entity_names, count, ${TIMES}`;
  protected readonly columns = listColumns<FullEntitiesRecord>(
    'entity_names',
    (r) => r.entity_names,
  );

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.fullEntities);
  }
}

export class FullRelationsStorage extends ListStorage<FullRelationsRecord> {
  readonly namespace = 'full_relations';
  protected readonly field = 'relation_pairs';
  protected override readonly maxIdLength = 255;
  protected readonly selectList = `id, relation_pairs, count, ${TIMES}`;
  protected readonly columns = listColumns<FullRelationsRecord>(
    'relation_pairs',
    (r) => r.relation_pairs,
  );

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.fullRelations);
  }
}

/** ENTITY_CHUNKS or RELATION_CHUNKS: every chunk supporting an entity or a relation. */
abstract class ChunkTrackingStorage extends ListStorage<ChunkTrackingRecord> {
  protected readonly field = 'chunk_ids';
  protected readonly selectList = `id, chunk_ids, count, ${TIMES}`;
  protected readonly columns = listColumns<ChunkTrackingRecord>('chunk_ids', (r) => r.chunk_ids);
}

/** Keyed by entity name. */
export class EntityChunksStorage extends ChunkTrackingStorage {
  readonly namespace = 'entity_chunks';

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.entityChunks);
  }
}

/** Keyed by {@link relationChunkKey}. */
export class RelationChunksStorage extends ChunkTrackingStorage {
  readonly namespace = 'relation_chunks';

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.relationChunks);
  }
}
