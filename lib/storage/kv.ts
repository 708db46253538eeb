/**
 * LightRAG's key-value storage on its three tables: `full_docs` (LIGHTRAG_DOC_FULL),
 * `text_chunks` (LIGHTRAG_DOC_CHUNKS) and `llm_response_cache` (LIGHTRAG_LLM_CACHE).
 * Field names are LightRAG's own, so rows written here read the same from a LightRAG deployment.
 */
import type { Database } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { md5, sanitizeOptional, toJsonParam } from '../text.ts';
import { TABLES } from './tables.ts';
import { isStringArray, optionalString, requireInteger, requireString } from './validate.ts';
import { asJsonb, type ColumnSpec, epochColumn, WorkspaceTable } from './workspace-table.ts';

export const KV_NAMESPACES = [
  'full_docs',
  'text_chunks',
  'llm_response_cache',
  'full_entities',
  'full_relations',
  'entity_chunks',
  'relation_chunks',
] as const;
/** LightRAG's key-value namespaces stored here. */
export type KvNamespace = (typeof KV_NAMESPACES)[number];

/** A stored document (LightRAG `full_docs`): `doc_name` holds its file path. */
export interface FullDoc {
  id: string;
  content: string;
  file_path?: string | null;
  meta?: Record<string, unknown> | null;
  /** LightRAG 1.5's `parse_format`: `raw` (text, the default) or `pending_parse` (an upload not yet parsed, content ""). */
  parse_format?: 'raw' | 'pending_parse';
  /** What turned the file into text (`unpdf`, `ooxml`, `html-to-text`, `text`). */
  parse_engine?: string | null;
}

/** A chunk (LightRAG `text_chunks`). */
export interface TextChunk {
  id: string;
  content: string;
  full_doc_id: string;
  chunk_order_index: number;
  tokens: number;
  file_path?: string | null;
  /** Keys of the LLM cache entries made from this chunk (extraction results). */
  llm_cache_list?: string[];
}

/** An LLM cache entry (LightRAG `llm_response_cache`); id is `{mode}:{cache_type}:{md5}`. */
export interface LlmCacheEntry {
  id: string;
  return: string;
  original_prompt?: string | null;
  cache_type?: string | null;
  chunk_id?: string | null;
  queryparam?: Record<string, unknown> | null;
}

/** Rows as read back: LightRAG adds the timestamps as unix seconds. */
export type Stored<T> = T & { create_time: number; update_time: number };

const FULL_DOC_COLUMNS: ColumnSpec<FullDoc>[] = [
  { name: 'content', arrayType: 'text', value: (r) => sanitizeOptional(r.content) },
  { name: 'doc_name', arrayType: 'text', value: (r) => sanitizeOptional(r.file_path) },
  { name: 'meta', arrayType: 'text', expression: asJsonb, value: (r) => toJsonParam(r.meta) },
  // As LightRAG 1.5 fills them (§1.1): md5 of the stored body, format `raw`; an upload not yet
  // parsed is `pending_parse` with content "" and no hash.
  {
    name: 'content_hash',
    arrayType: 'text',
    value: (r) =>
      r.parse_format === 'pending_parse' ? null : md5(sanitizeOptional(r.content) ?? ''),
    size: () => 32,
  },
  {
    name: 'parse_format',
    arrayType: 'text',
    value: (r) => r.parse_format ?? 'raw',
    size: () => 13,
  },
  { name: 'parse_engine', arrayType: 'text', value: (r) => r.parse_engine ?? null },
];

const TEXT_CHUNK_COLUMNS: ColumnSpec<TextChunk>[] = [
  { name: 'full_doc_id', arrayType: 'text', value: (r) => r.full_doc_id },
  { name: 'chunk_order_index', arrayType: 'int4', value: (r) => r.chunk_order_index },
  { name: 'tokens', arrayType: 'int4', value: (r) => r.tokens },
  { name: 'content', arrayType: 'text', value: (r) => sanitizeOptional(r.content) },
  { name: 'file_path', arrayType: 'text', value: (r) => sanitizeOptional(r.file_path) },
  {
    name: 'llm_cache_list',
    arrayType: 'text',
    expression: asJsonb,
    value: (r) => toJsonParam(r.llm_cache_list ?? []),
  },
];

const LLM_CACHE_COLUMNS: ColumnSpec<LlmCacheEntry>[] = [
  { name: 'original_prompt', arrayType: 'text', value: (r) => sanitizeOptional(r.original_prompt) },
  { name: 'return_value', arrayType: 'text', value: (r) => sanitizeOptional(r.return) },
  { name: 'chunk_id', arrayType: 'text', value: (r) => r.chunk_id ?? null },
  { name: 'cache_type', arrayType: 'text', value: (r) => r.cache_type ?? null },
  {
    name: 'queryparam',
    arrayType: 'text',
    expression: asJsonb,
    value: (r) => toJsonParam(r.queryparam),
  },
];

const TIMES = `${epochColumn('create_time')}, ${epochColumn('update_time')}`;

/** Key-value storage for one namespace and workspace. */
export abstract class KvStorage<T extends { id: string }> extends WorkspaceTable<Stored<T>> {
  abstract readonly namespace: KvNamespace;
  protected abstract readonly columns: readonly ColumnSpec<T>[];

  /** Inserts or updates by id; returns the number of distinct ids written. */
  async upsert(records: readonly T[]): Promise<number> {
    for (const record of records) this.validate(record);
    return this.upsertRecords(records, this.columns);
  }

  protected abstract validate(record: T): void;
}

export class FullDocsStorage extends KvStorage<FullDoc> {
  readonly namespace = 'full_docs';
  protected readonly columns = FULL_DOC_COLUMNS;
  protected readonly selectList = `id, content, doc_name, meta, ${TIMES}`;

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.fullDocs);
  }

  protected mapRow(row: Record<string, unknown>): Stored<FullDoc> {
    return {
      id: row.id as string,
      content: row.content as string,
      file_path: row.doc_name as string | null,
      meta: row.meta as Record<string, unknown> | null,
      create_time: row.create_time as number,
      update_time: row.update_time as number,
    };
  }

  protected validate(record: FullDoc): void {
    requireString(record, 'content');
    optionalString(record, 'file_path', { maxLength: 1024 });
  }
}

export class TextChunksStorage extends KvStorage<TextChunk> {
  readonly namespace = 'text_chunks';
  protected readonly columns = TEXT_CHUNK_COLUMNS;
  protected readonly selectList =
    `id, content, full_doc_id, chunk_order_index, tokens, file_path, llm_cache_list, ${TIMES}`;

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.textChunks);
  }

  /** Every chunk of one document, in order. */
  async getByDocId(fullDocId: string): Promise<Stored<TextChunk>[]> {
    const { rows } = await this.q.query(
      `SELECT ${this.selectList} FROM ${this.table} WHERE workspace = $1 AND full_doc_id = $2 ORDER BY chunk_order_index`,
      [this.workspace, fullDocId],
    );
    return rows.map((row) => this.mapRow(row));
  }

  /** The ids of one document's chunks, in order. */
  async idsOfDocument(fullDocId: string): Promise<string[]> {
    const { rows } = await this.q.query<{ id: string }>(
      `SELECT id FROM ${this.table} WHERE workspace = $1 AND full_doc_id = $2 ORDER BY chunk_order_index, id`,
      [this.workspace, fullDocId],
    );
    return rows.map((r) => r.id);
  }

  /** Deletes every chunk of one document; returns how many went. */
  async deleteByDocId(fullDocId: string): Promise<number> {
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND full_doc_id = $2`,
      [this.workspace, fullDocId],
    );
    return rowCount;
  }

  protected mapRow(row: Record<string, unknown>): Stored<TextChunk> {
    return {
      id: row.id as string,
      content: row.content as string,
      full_doc_id: row.full_doc_id as string,
      chunk_order_index: row.chunk_order_index as number,
      tokens: row.tokens as number,
      file_path: row.file_path as string | null,
      llm_cache_list: (row.llm_cache_list as string[] | null) ?? [],
      create_time: row.create_time as number,
      update_time: row.update_time as number,
    };
  }

  protected validate(record: TextChunk): void {
    requireString(record, 'content');
    requireString(record, 'full_doc_id', { maxLength: 256 });
    optionalString(record, 'file_path');
    requireInteger(record, 'chunk_order_index');
    requireInteger(record, 'tokens');
    if (record.llm_cache_list !== undefined && !isStringArray(record.llm_cache_list)) {
      throw new ValidationError(`Chunk ${record.id}: llm_cache_list must be an array of strings.`, {
        id: record.id,
      });
    }
  }
}

export class LlmCacheStorage extends KvStorage<LlmCacheEntry> {
  readonly namespace = 'llm_response_cache';
  protected readonly columns = LLM_CACHE_COLUMNS;
  protected readonly selectList =
    `id, original_prompt, return_value, chunk_id, cache_type, queryparam, ${TIMES}`;

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.llmCache);
  }

  protected mapRow(row: Record<string, unknown>): Stored<LlmCacheEntry> {
    return {
      id: row.id as string,
      return: row.return_value as string,
      original_prompt: row.original_prompt as string | null,
      chunk_id: row.chunk_id as string | null,
      cache_type: row.cache_type as string | null,
      queryparam: row.queryparam as Record<string, unknown> | null,
      create_time: row.create_time as number,
      update_time: row.update_time as number,
    };
  }

  /** Deletes the entries made from these chunks (extraction replies); returns how many went. */
  async deleteByChunkIds(chunkIds: readonly string[]): Promise<number> {
    if (chunkIds.length === 0) return 0;
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND chunk_id = ANY($2::text[])`,
      [this.workspace, chunkIds],
    );
    return rowCount;
  }

  protected validate(record: LlmCacheEntry): void {
    requireString(record, 'return');
    optionalString(record, 'original_prompt');
    optionalString(record, 'cache_type', { maxLength: 32 });
    optionalString(record, 'chunk_id', { maxLength: 255 });
  }
}
