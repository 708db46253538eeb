/**
 * LightRAG's table names. LightRAG writes them upper-case and unquoted, so Postgres stores them
 * lower-case; these are the physical names, shared with a LightRAG deployment on the same database.
 */
import { VectorTableNameError } from '../errors.ts';

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
  // This project's own: the fan-out of a document's extraction across containers.
  extractionRuns: 'lightrag_serverless_extraction_runs',
  extractionBatches: 'lightrag_serverless_extraction_batches',
  // Graph elements whose summary or vector is due (lib/graph/upkeep.ts).
  graphUpkeep: 'lightrag_serverless_graph_upkeep',
  // Daily LLM and embedding usage per workspace (lib/ops/usage.ts).
  usage: 'lightrag_serverless_usage',
  // Failed logins per user name and client address, for LightRAG's login (lib/auth/login.ts).
  loginFailures: 'lightrag_serverless_login_failures',
  // Per-workspace pipeline log and cancellation flag (LightRAG's pipeline_status, lib/pipeline/status.ts).
  pipelineEvents: 'lightrag_serverless_pipeline_events',
  pipelineControl: 'lightrag_serverless_pipeline_control',
} as const;

/** The vector namespaces and their base tables. */
export const VECTOR_BASE_TABLES = {
  chunks: 'lightrag_vdb_chunks',
  entities: 'lightrag_vdb_entity',
  relationships: 'lightrag_vdb_relation',
} as const;
/** LightRAG's vector namespaces: chunks, entities, relationships. */
export type VectorNamespace = keyof typeof VECTOR_BASE_TABLES;

const MAX_IDENTIFIER_LENGTH = 63;
const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The vector table for a namespace, by LightRAG 1.5's rule (LIGHTRAG-1.5.md §2.1): with
 * `EMBEDDING_MODEL` set it is `{base}_{model}_{dim}d`, the model lower-cased with every character
 * outside `[a-zA-Z0-9_]` (each code point) replaced by `_`, so two models never share a table and
 * this project and LightRAG name it alike. A name over 63 characters is refused, as LightRAG
 * refuses it (PostgreSQL would silently cut it).
 *
 * @example
 * ```ts
 * vectorTableName('chunks', { model: 'text-embedding-3-large (azure)', dimension: 3072 });
 * // 'lightrag_vdb_chunks_text_embedding_3_large__azure__3072d'
 * ```
 */
export function vectorTableName(
  namespace: VectorNamespace,
  vector: { model?: string; dimension: number },
): string {
  const base = VECTOR_BASE_TABLES[namespace];
  const model = vector.model?.trim();
  if (!model) return base;
  const name = `${base}_${model.toLowerCase().replace(/[^a-zA-Z0-9_]/gu, '_')}_${vector.dimension}d`;
  if ([...name].length > MAX_IDENTIFIER_LENGTH) {
    throw new VectorTableNameError(
      `EMBEDDING_MODEL ${JSON.stringify(model)} makes the vector table name ${name} (${[...name].length} characters); ` +
        `PostgreSQL and LightRAG allow ${MAX_IDENTIFIER_LENGTH}. Use a shorter model name (the same one LightRAG uses).`,
      { model, table: name },
    );
  }
  return assertIdentifier(name);
}

/** Identifiers cannot be bind parameters; every one that reaches SQL passes this check first. */
export function assertIdentifier(name: string): string {
  if (!IDENTIFIER_PATTERN.test(name))
    throw new Error(`Refusing unsafe SQL identifier ${JSON.stringify(name)}`);
  return name;
}
