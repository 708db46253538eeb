/**
 * LightRAG's table names. LightRAG writes them upper-case and unquoted, so Postgres stores them
 * lower-case; these are the physical names, shared with a LightRAG deployment on the same database.
 */
import type { VectorConfig } from '../config.ts';

export const TABLES = {
  fullDocs: 'lightrag_doc_full',
  textChunks: 'lightrag_doc_chunks',
  llmCache: 'lightrag_llm_cache',
  docStatus: 'lightrag_doc_status',
  fullEntities: 'lightrag_full_entities',
  fullRelations: 'lightrag_full_relations',
  entityChunks: 'lightrag_entity_chunks',
  relationChunks: 'lightrag_relation_chunks',
  graphNodes: 'lightrag_graph_nodes',
  graphEdges: 'lightrag_graph_edges',
  schemaMarker: 'lightrag_serverless_schema',
} as const;

/** LightRAG's namespace of the entity-relation graph (the `namespace` column of the graph tables). */
export const GRAPH_NAMESPACE = 'chunk_entity_relation';

/** The vector namespaces and their base tables. */
export const VECTOR_BASE_TABLES = {
  chunks: 'lightrag_vdb_chunks',
  entities: 'lightrag_vdb_entity',
  relationships: 'lightrag_vdb_relation',
} as const;
export type VectorNamespace = keyof typeof VECTOR_BASE_TABLES;

const MAX_IDENTIFIER_LENGTH = 63;
const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The vector table for a namespace. With `EMBEDDING_MODEL` set it is model-suffixed,
 * `{base}_{model}_{dim}d`, so two embedding models never share (or mix dimensions in) a table.
 * The model part is shortened to keep the name within Postgres's 63 characters.
 *
 * @example
 * ```ts
 * vectorTableName('chunks', { model: 'text-embedding-3-small', dimension: 1536 } as VectorConfig);
 * // 'lightrag_vdb_chunks_text_embedding_3_small_1536d'
 * ```
 */
export function vectorTableName(
  namespace: VectorNamespace,
  vector: Pick<VectorConfig, 'model' | 'dimension'>,
): string {
  const base = VECTOR_BASE_TABLES[namespace];
  if (!vector.model) return base;
  const dims = `_${vector.dimension}d`;
  const room = MAX_IDENTIFIER_LENGTH - base.length - 1 - dims.length;
  const model = vector.model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, room)
    .replace(/_+$/g, '');
  return assertIdentifier(`${base}_${model}${dims}`);
}

/** Identifiers cannot be bind parameters; every one that reaches SQL passes this check first. */
export function assertIdentifier(name: string): string {
  if (!IDENTIFIER_PATTERN.test(name))
    throw new Error(`Refusing unsafe SQL identifier ${JSON.stringify(name)}`);
  return name;
}
