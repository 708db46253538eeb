/**
 * Document status rows as LightRAG 1.5 writes them, built in one place: a new row, the next row
 * of a stored document, and the fields LightRAG derives from a document's text. The storage
 * (lib/storage/doc-status.ts) writes them; nothing else assembles a row field by field.
 *
 * @example
 * ```ts
 * const row = newStatus(docId, { status: 'pending', ...contentFields(text), file_path: 'a.md' });
 * await s.docStatus.upsert([nextStatus(current, { status: 'failed', error_msg: reason })]);
 * ```
 */
import { md5 } from '../text.ts';
import type { DocStatusRecord, StoredDocStatus } from './doc-status.ts';

/** LightRAG's content summary: the first 250 characters, with "..." when cut. */
export function contentSummary(content: string, maxLength = 250): string {
  const trimmed = content.trim();
  return trimmed.length <= maxLength ? trimmed : `${trimmed.slice(0, maxLength)}...`;
}

/** What a status row says of the text: summary, length (Python's len(): code points), hash. */
export function contentFields(
  content: string,
): Pick<DocStatusRecord, 'content_summary' | 'content_length' | 'content_hash'> {
  return {
    content_summary: contentSummary(content),
    content_length: [...content].length,
    content_hash: md5(content),
  };
}

/**
 * A status row for a document with no row yet (or one rebuilt whole): LightRAG's empty values
 * under `fields`. A document with a stored row moves on with {@link nextStatus} instead.
 */
export function newStatus(
  id: string,
  fields: Pick<DocStatusRecord, 'status'> & Partial<DocStatusRecord>,
): DocStatusRecord {
  return {
    id,
    content_summary: '',
    content_length: 0,
    file_path: null,
    track_id: null,
    metadata: {},
    chunks_count: null,
    chunks_list: [],
    error_msg: null,
    content_hash: null,
    ...fields,
  };
}

/**
 * The next status row of a stored document: its fields with `fields` on top, the error cleared
 * unless given, and its timestamps left to the upsert (`created_at` kept, `updated_at` now).
 */
export function nextStatus(
  current: StoredDocStatus,
  fields: Partial<DocStatusRecord> & Pick<DocStatusRecord, 'status'>,
): DocStatusRecord {
  const { created_at: _c, updated_at: _u, ...rest } = current;
  return { ...rest, error_msg: null, ...fields };
}
