/**
 * The records each vector namespace stores (LightRAG's field names) and how they map onto the
 * columns of its VDB table.
 */
import type { VectorConfig } from '../config.ts';
import { sanitizeOptional } from '../text.ts';
import type { VectorNamespace } from './tables.ts';
import type { ColumnSpec } from './workspace-table.ts';

/** LightRAG joins source chunk ids with this separator. */
export const GRAPH_FIELD_SEP = '<SEP>';

/** Common to every vector record: `vector` is computed from `content` when absent. */
interface VectorFields {
  id: string;
  content: string;
  vector?: readonly number[];
  file_path?: string | null;
}
export interface ChunkVectorRecord extends VectorFields {
  full_doc_id: string;
  chunk_order_index: number;
  tokens: number;
}
export interface EntityVectorRecord extends VectorFields {
  entity_name: string;
  /** Source chunk ids joined with `<SEP>` (LightRAG's graph field). */
  source_id?: string;
}
export interface RelationVectorRecord extends VectorFields {
  src_id: string;
  tgt_id: string;
  source_id?: string;
}
export type VectorRecordFor<N extends VectorNamespace> = N extends 'chunks'
  ? ChunkVectorRecord
  : N extends 'entities'
    ? EntityVectorRecord
    : RelationVectorRecord;

/** A stored row as read back (no vector; use `getVectorsByIds`). */
export type VectorRow = Record<string, unknown> & { id: string; created_at: number };
/** A similarity match: `distance` is the cosine distance (0 = same direction). */
export type VectorMatch = VectorRow & { distance: number };

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
