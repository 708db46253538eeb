/**
 * LightRAG Server's query answers in its shapes: `POST /query` `{response, references,
 * response_time}`, and `POST /query/data` (retrieval only, no LLM answer): `{status, message,
 * data: {entities, relationships, chunks, references}, metadata}`, LightRAG's field names in each
 * item and its string reference ids.
 */
import { formatGraphContext, naiveContext, type Reference } from './context.ts';
import type { QueryResponse } from './prepared.ts';
import type { QueryRequest } from './request.ts';

/** A reference as LightRAG numbers it: a string id. */
export const lightragReference = (r: Reference) => ({
  reference_id: String(r.reference_id),
  file_path: r.file_path,
  ...(r.content ? { content: r.content } : {}),
});

/**
 * The retrieved context as the prompt carries it: LightRAG's `only_need_context` answer (and
 * ours without an LLM configured). Empty in `bypass`, which retrieves nothing.
 */
export function contextText(res: QueryResponse): string {
  const { entities, relationships, chunks } = res.context;
  if (res.mode === 'bypass') return '';
  if (res.mode === 'naive') return naiveContext(chunks, res.references);
  return formatGraphContext(entities, relationships, chunks, res.references);
}

/**
 * `POST /query` as LightRAG answers it: the answer text (the context text with
 * `only_need_context` or without an LLM; the prompt with `only_need_prompt`), the references
 * unless `include_references` is false, and the time taken in seconds.
 */
export function lightragQueryResponse(
  res: QueryResponse,
  request: Pick<QueryRequest, 'include_references'>,
) {
  return {
    response: res.answer ?? contextText(res),
    ...(request.include_references ? { references: res.references.map(lightragReference) } : {}),
    response_time: res.timings.totalMs / 1000,
  };
}

/** A retrieval as LightRAG's `/query/data` gives it. */
export function queryDataResponse(res: QueryResponse) {
  const { entities, relationships, chunks } = res.context;
  return {
    status: 'success',
    message: 'Query executed successfully',
    data: {
      entities: entities.map((e) => ({
        entity_name: e.entity,
        entity_type: e.type,
        description: e.description,
        source_id: e.source_id,
        file_path: e.file_path,
        rank: e.rank,
      })),
      relationships: relationships.map((r) => ({
        src_id: r.entity1,
        tgt_id: r.entity2,
        description: r.description,
        keywords: r.keywords,
        weight: r.weight,
        source_id: r.source_id,
        file_path: r.file_path,
        rank: r.rank,
      })),
      chunks: chunks.map((c) => ({
        reference_id: String(c.reference_id),
        content: c.content,
        file_path: c.file_path,
        chunk_id: c.chunk_id,
      })),
      references: res.references.map(lightragReference),
    },
    metadata: {
      query_mode: res.mode,
      keywords: {
        high_level: res.keywords?.high_level ?? [],
        low_level: res.keywords?.low_level ?? [],
      },
      processing_info: {
        total_entities_found: entities.length,
        total_relations_found: relationships.length,
        final_chunks_count: chunks.length,
      },
    },
  };
}
