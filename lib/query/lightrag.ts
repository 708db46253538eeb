/**
 * LightRAG Server's query answers in its shapes: `POST /query/data` (retrieval only, no LLM
 * answer): `{status, message, data: {entities, relationships, chunks, references}, metadata}`,
 * LightRAG's field names in each item and its string reference ids.
 */
import type { QueryResponse } from './prepared.ts';

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
      references: res.references.map((r) => ({
        reference_id: String(r.reference_id),
        file_path: r.file_path,
        ...(r.content ? { content: r.content } : {}),
      })),
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
