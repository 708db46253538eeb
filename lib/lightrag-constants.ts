/**
 * LightRAG's constants that stored rows carry, in one leaf module (it imports nothing): data
 * written here must read the same to LightRAG 1.5 and back.
 */

/** LightRAG joins description fragments, source chunk ids and file paths with this separator. */
export const GRAPH_FIELD_SEP = '<SEP>';

/** Type of a node created only because a relation named it. */
export const UNKNOWN_TYPE = 'UNKNOWN';

/** LightRAG 1.5's `file_path` for a document without a usable name. */
export const UNKNOWN_SOURCE = 'unknown_source';

/** LightRAG's namespace of the entity-relation graph (the `namespace` column of the graph tables). */
export const GRAPH_NAMESPACE = 'chunk_entity_relation';

/** LightRAG's marker for a file path list cut at `MAX_FILE_PATHS`. */
export const FILE_PATH_TRUNCATED = '...(more files)';

/** LightRAG's answer when retrieval found nothing: PROMPTS["fail_response"], no LLM call. */
export const FAIL_RESPONSE =
  "Sorry, I'm not able to provide an answer to that question.[no-context]";
