/**
 * The records each vector namespace stores (LightRAG's field names) and how they map onto the
 * columns of its VDB table.
 */
import type { VectorConfig } from '../config.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { sanitizeOptional } from '../text.ts';
import type { VectorNamespace } from './tables.ts';
import type { ColumnSpec } from './workspace-table.ts';

/** Common to every vector record: `vector` is computed from `content` when absent. */
interface VectorFields {
  id: string;
  content: string;
  vector?: readonly number[];
  file_path?: string | null;
}
/** A chunk to store with its vector (LIGHTRAG_VDB_CHUNKS). */
export interface ChunkVectorRecord extends VectorFields {
  full_doc_id: string;
  chunk_order_index: number;
  tokens: number;
}
/** An entity to store with its vector (LIGHTRAG_VDB_ENTITY). */
export interface EntityVectorRecord extends VectorFields {
  entity_name: string;
  /** Source chunk ids joined with `<SEP>` (LightRAG's graph field). */
  source_id?: string;
}
/** A relation to store with its vector (LIGHTRAG_VDB_RELATION). */
export interface RelationVectorRecord extends VectorFields {
  src_id: string;
  tgt_id: string;
  source_id?: string;
}
/** The record a namespace stores. */
export type VectorRecordFor<N extends VectorNamespace> = N extends 'chunks'
  ? ChunkVectorRecord
  : N extends 'entities'
    ? EntityVectorRecord
    : RelationVectorRecord;

/** Stored rows as read back (no vector; use `getVectorsByIds`), decoded per namespace. */
interface VectorRowFields {
  id: string;
  content: string;
  file_path: string | null;
  /** Unix seconds. */
  created_at: number;
}
/** A stored chunk vector row, as read back. */
export interface ChunkVectorRow extends VectorRowFields {
  full_doc_id: string;
  chunk_order_index: number;
  tokens: number;
}
/** A stored entity vector row, as read back. */
export interface EntityVectorRow extends VectorRowFields {
  entity_name: string;
  chunk_ids: string[];
}
/** A stored relation vector row, as read back. */
export interface RelationVectorRow extends VectorRowFields {
  src_id: string;
  tgt_id: string;
  chunk_ids: string[];
}
/** The row a namespace reads back. */
export type VectorRowFor<N extends VectorNamespace> = N extends 'chunks'
  ? ChunkVectorRow
  : N extends 'entities'
    ? EntityVectorRow
    : RelationVectorRow;
/** Any namespace's row. */
export type VectorRow = ChunkVectorRow | EntityVectorRow | RelationVectorRow;
/** A similarity match: `distance` is the cosine distance (0 = same direction). */
export type VectorMatch<N extends VectorNamespace = VectorNamespace> = VectorRowFor<N> & {
  distance: number;
};

const text = (v: unknown) => (typeof v === 'string' ? v : v == null ? '' : String(v));
const int = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0) || 0);
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);

/** A row of namespace `N` from its SELECT list (plus `distance` for matches), typed once. */
export function decodeVectorRow<N extends VectorNamespace>(
  namespace: N,
  row: Record<string, unknown>,
): VectorRowFor<N> {
  const common = {
    id: text(row.id),
    content: text(row.content),
    file_path: typeof row.file_path === 'string' ? row.file_path : null,
    created_at: int(row.created_at),
    ...(typeof row.distance === 'number' ? { distance: row.distance } : {}),
  };
  const decoded =
    namespace === 'chunks'
      ? {
          ...common,
          full_doc_id: text(row.full_doc_id),
          chunk_order_index: int(row.chunk_order_index),
          tokens: int(row.tokens),
        }
      : namespace === 'entities'
        ? { ...common, entity_name: text(row.entity_name), chunk_ids: list(row.chunk_ids) }
        : {
            ...common,
            src_id: text(row.src_id),
            tgt_id: text(row.tgt_id),
            chunk_ids: list(row.chunk_ids),
          };
  return decoded as VectorRowFor<N>;
}

/** A record with its vector encoded for the driver (text, or binary for Neon and pg). */
export type Prepared<N extends VectorNamespace> = VectorRecordFor<N> & {
  vectorParam: string | Buffer;
};

export const SELECTS: Record<VectorNamespace, string> = {
  chunks: 'id, full_doc_id, chunk_order_index, tokens, content, file_path',
  entities: 'id, entity_name, content, chunk_ids, file_path',
  relationships: 'id, source_id AS src_id, target_id AS tgt_id, content, chunk_ids, file_path',
};

const chunkIds = (sourceId: string | undefined) =>
  JSON.stringify(sourceId ? sourceId.split(GRAPH_FIELD_SEP).filter((s) => s.length > 0) : []);
const chunkIdsExpression = (v: string) =>
  `ARRAY(SELECT jsonb_array_elements_text(${v}::jsonb))::varchar(255)[]`;

export function columnsFor(
  namespace: VectorNamespace,
  vector: VectorConfig,
): ColumnSpec<Prepared<VectorNamespace>>[] {
  const vectorColumn: ColumnSpec<Prepared<VectorNamespace>> = {
    name: 'content_vector',
    arrayType: 'text',
    expression: (v) => `${v}::vector(${vector.dimension})`,
    value: (r) => r.vectorParam,
  };
  const common: ColumnSpec<Prepared<VectorNamespace>>[] = [
    { name: 'content', arrayType: 'text', value: (r) => sanitizeOptional(r.content) },
    vectorColumn,
    { name: 'file_path', arrayType: 'text', value: (r) => sanitizeOptional(r.file_path) },
  ];
  const own = {
    chunks: [
      { name: 'full_doc_id', arrayType: 'text', value: (r: ChunkVectorRecord) => r.full_doc_id },
      {
        name: 'chunk_order_index',
        arrayType: 'int4',
        value: (r: ChunkVectorRecord) => r.chunk_order_index,
      },
      { name: 'tokens', arrayType: 'int4', value: (r: ChunkVectorRecord) => r.tokens },
    ],
    entities: [
      {
        name: 'entity_name',
        arrayType: 'text',
        value: (r: EntityVectorRecord) => sanitizeOptional(r.entity_name),
      },
      {
        name: 'chunk_ids',
        arrayType: 'text',
        expression: chunkIdsExpression,
        value: (r: EntityVectorRecord) => chunkIds(r.source_id),
      },
    ],
    relationships: [
      {
        name: 'source_id',
        arrayType: 'text',
        value: (r: RelationVectorRecord) => sanitizeOptional(r.src_id),
      },
      {
        name: 'target_id',
        arrayType: 'text',
        value: (r: RelationVectorRecord) => sanitizeOptional(r.tgt_id),
      },
      {
        name: 'chunk_ids',
        arrayType: 'text',
        expression: chunkIdsExpression,
        value: (r: RelationVectorRecord) => chunkIds(r.source_id),
      },
    ],
  }[namespace] as ColumnSpec<Prepared<VectorNamespace>>[];
  return [...own, ...common];
}
