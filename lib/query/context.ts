/**
 * The retrieved context, as LightRAG hands it to the LLM: entities `{entity, type, description}`,
 * relations `{entity1, entity2, description}` and chunks `{reference_id, content}` as JSON lines,
 * each section cut to its token budget, then a numbered list of the source files.
 */

import type { VectorMatch } from '../storage/vector-records.ts';
import type { Tokenizer } from '../tokenizer.ts';

/** An entity of a query's context, as LightRAG formats it for the prompt. */
export interface ContextEntity {
  entity: string;
  type: string;
  description: string;
  /** Degree in the graph. */
  rank: number;
  source_id: string;
  file_path: string;
}

/** A relation of a query's context, as LightRAG formats it for the prompt. */
export interface ContextRelation {
  entity1: string;
  entity2: string;
  description: string;
  keywords: string;
  weight: number;
  /** Edge degree: the sum of both ends' degrees. */
  rank: number;
  source_id: string;
  file_path: string;
}

/** A chunk of a query's context, with the reference it is cited by. */
export interface ContextChunk {
  reference_id: number;
  chunk_id: string;
  doc_id: string;
  file_path: string | null;
  content: string;
  /** Cosine similarity to the query (1 = same direction). */
  score: number;
}

/** A chunk-vector match as a context chunk (its score the cosine similarity). */
export function chunkFromMatch(m: VectorMatch<'chunks'>): ContextChunk {
  return {
    reference_id: 0,
    chunk_id: m.id,
    doc_id: m.full_doc_id,
    file_path: m.file_path,
    content: m.content,
    score: Number((1 - m.distance).toFixed(6)),
  };
}

/** A numbered source of an answer (LightRAG's reference list). */
export interface Reference {
  reference_id: number;
  file_path: string | null;
  /** With `include_chunk_content`: the text of the chunks this reference stands for. */
  content?: string[];
}

/** The references, with their chunks' text when `includeContent` (LightRAG's `include_chunk_content`). */
export function withChunkContent(
  references: readonly Reference[],
  chunks: readonly ContextChunk[],
  includeContent: boolean,
): Reference[] {
  if (!includeContent) return [...references];
  return references.map((r) => ({
    ...r,
    content: chunks.filter((c) => c.reference_id === r.reference_id).map((c) => c.content),
  }));
}

export const entityLine = (e: ContextEntity) =>
  JSON.stringify({ entity: e.entity, type: e.type, description: e.description });
export const relationLine = (r: ContextRelation) =>
  JSON.stringify({ entity1: r.entity1, entity2: r.entity2, description: r.description });
export const chunkLine = (c: ContextChunk) =>
  JSON.stringify({ reference_id: c.reference_id, content: c.content });

/** The longest prefix of `items` whose lines fit `budget` tokens. */
export function truncateByTokens<T>(
  items: readonly T[],
  line: (item: T) => string,
  budget: number,
  tokenizer: Tokenizer,
): T[] {
  const kept: T[] = [];
  let used = 0;
  for (const item of items) {
    used += tokenizer.encode(`${line(item)}\n`).length;
    if (used > budget) break;
    kept.push(item);
  }
  return kept;
}

/** One reference per distinct file path, numbered in order of first use (LightRAG's [n]). */
export function assignReferences(chunks: ContextChunk[]): Reference[] {
  const byPath = new Map<string, number>();
  for (const chunk of chunks) {
    const key = chunk.file_path ?? 'unknown_source';
    if (!byPath.has(key)) byPath.set(key, byPath.size + 1);
    chunk.reference_id = byPath.get(key)!;
  }
  return [...byPath].map(([file_path, reference_id]) => ({
    reference_id,
    file_path: file_path === 'unknown_source' ? null : file_path,
  }));
}

const block = (lines: string[]) => ['```json', ...lines, '```'].join('\n');

/** The context section of the answer prompt. */
export function formatGraphContext(
  entities: readonly ContextEntity[],
  relations: readonly ContextRelation[],
  chunks: readonly ContextChunk[],
  references: readonly Reference[],
): string {
  return [
    'Knowledge Graph Data (Entity):',
    '',
    block(entities.map(entityLine)),
    '',
    'Knowledge Graph Data (Relationship):',
    '',
    block(relations.map(relationLine)),
    '',
    'Document Chunks (Each entry has a reference_id refer to the `Reference Document List`):',
    '',
    block(chunks.map(chunkLine)),
    '',
    'Reference Document List (Each entry starts with a [reference_id] that corresponds to entries in the Document Chunks):',
    '',
    ...references.map((r) => `[${r.reference_id}] ${r.file_path ?? 'unknown source'}`),
  ].join('\n');
}

/** The context section of `naive`'s prompt: the chunks and their references. */
export function naiveContext(
  chunks: readonly ContextChunk[],
  references: readonly Reference[],
): string {
  return [
    '---Document Chunks---',
    chunks.map(chunkLine).join('\n') || '(no relevant chunks were found)',
    '',
    '---References---',
    references.map((r) => `[${r.reference_id}] ${r.file_path ?? 'unknown source'}`).join('\n') ||
      '(none)',
  ].join('\n');
}
