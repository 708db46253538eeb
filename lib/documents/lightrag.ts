/**
 * LightRAG Server's document routes, its request and response shapes (its
 * `lightrag/api/routers/document_routes.py`): the translation between its forms and the document
 * use cases (lib/documents/service.ts). Requests are checked; fields LightRAG does not read are
 * ignored, as it ignores them.
 */

import { ValidationError } from '../errors.ts';
import { requireJsonObject } from '../json-fields.ts';
import {
  DOC_STATUSES,
  type DocStatus,
  type Page,
  type PageRequest,
  SORT_FIELDS,
  type StoredDocStatus,
} from '../storage/doc-status.ts';
import { MAX_DELETE_REQUEST_IDS } from './background.ts';
import type { SubmittedDocument } from './service.ts';

/** A document as LightRAG's lists give it (its `DocStatusResponse`). */
export function lightragDoc(d: StoredDocStatus) {
  return {
    id: d.id,
    content_summary: d.content_summary,
    content_length: d.content_length,
    status: d.status,
    created_at: d.created_at,
    updated_at: d.updated_at,
    track_id: d.track_id,
    chunks_count: d.chunks_count,
    error_msg: d.error_msg,
    metadata: d.metadata,
    file_path: d.file_path,
  };
}

/** LightRAG's status counts: every status, and `all`. */
export function countsWithAll(counts: Record<DocStatus, number>): Record<string, number> {
  return { ...counts, all: Object.values(counts).reduce((sum, n) => sum + n, 0) };
}

const status = (value: unknown, field: string): DocStatus => {
  if (!DOC_STATUSES.includes(value as DocStatus))
    throw new ValidationError(`"${field}" must be one of ${DOC_STATUSES.join(', ')}.`, { field });
  return value as DocStatus;
};

/**
 * `POST /documents/paginated`'s body: `{status_filter?, status_filters?, page (≥ 1),
 * page_size (10–200), sort_field, sort_direction}`, LightRAG's defaults (page 1, 50 a page,
 * `updated_at`, `desc`).
 */
export function parsePaginatedRequest(body: unknown): PageRequest {
  const b = requireJsonObject(body ?? {}, 'The request body must be a JSON object.');
  const int = (field: string, fallback: number, min: number, max: number) => {
    const v = b[field] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      throw new ValidationError(`"${field}" must be an integer from ${min} to ${max}.`, { field });
    return v as number;
  };
  const sortField = b.sort_field ?? 'updated_at';
  if (!SORT_FIELDS.includes(sortField as (typeof SORT_FIELDS)[number]))
    throw new ValidationError(`"sort_field" must be one of ${SORT_FIELDS.join(', ')}.`, {
      field: 'sort_field',
    });
  const direction = b.sort_direction ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc')
    throw new ValidationError('"sort_direction" must be "asc" or "desc".', {
      field: 'sort_direction',
    });
  const filters = b.status_filters ?? null;
  if (filters !== null && !Array.isArray(filters))
    throw new ValidationError('"status_filters" must be a list of statuses or null.', {
      field: 'status_filters',
    });
  return {
    status: b.status_filter == null ? null : status(b.status_filter, 'status_filter'),
    statuses: (filters ?? []).map((s: unknown) => status(s, 'status_filters')),
    page: int('page', 1, 1, 1_000_000),
    pageSize: int('page_size', 50, 10, 200),
    sortField: sortField as string,
    sortDirection: direction,
  };
}

/** `POST /documents/paginated`'s answer: the page, LightRAG's pagination, and the counts. */
export function paginatedResponse(page: Page, counts: Record<DocStatus, number>) {
  const totalPages = Math.ceil(page.total / page.pageSize);
  return {
    documents: page.documents.map(lightragDoc),
    pagination: {
      page: page.page,
      page_size: page.pageSize,
      total_count: page.total,
      total_pages: totalPages,
      has_next: page.page < totalPages,
      has_prev: page.page > 1,
    },
    status_counts: countsWithAll(counts),
  };
}

/** `GET /documents/track_status/{track_id}`'s answer. */
export function trackStatusResponse(trackId: string, documents: readonly StoredDocStatus[]) {
  const summary: Record<string, number> = {};
  for (const d of documents) summary[d.status] = (summary[d.status] ?? 0) + 1;
  return {
    track_id: trackId,
    documents: documents.map(lightragDoc),
    total_count: documents.length,
    status_summary: summary,
  };
}

const text = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ValidationError(`"${field}" must be a non-empty string.`, { field });
  return value;
};
const source = (value: unknown, field: string): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new ValidationError(`"${field}" must be a string.`, { field });
  return value;
};

/** `POST /documents/text` (`{text, file_source?}`) as documents to submit. */
export function parseTextRequest(body: unknown): Array<Record<string, unknown>> {
  const b = requireJsonObject(body, 'The request body must be a JSON object with "text".');
  const filePath = source(b.file_source, 'file_source');
  return [{ content: text(b.text, 'text'), ...(filePath ? { filePath } : {}) }];
}

/** `POST /documents/texts` (`{texts: [..], file_sources?: [..]}`) as documents to submit. */
export function parseTextsRequest(body: unknown): Array<Record<string, unknown>> {
  const b = requireJsonObject(body, 'The request body must be a JSON object with "texts".');
  if (!Array.isArray(b.texts) || b.texts.length === 0 || b.texts.length > 100)
    throw new ValidationError('"texts" must be a list of 1 to 100 strings.', { field: 'texts' });
  const sources = b.file_sources ?? [];
  if (!Array.isArray(sources))
    throw new ValidationError('"file_sources" must be a list of strings.', {
      field: 'file_sources',
    });
  return b.texts.map((t: unknown, i: number) => {
    const filePath = source(sources[i], `file_sources[${i}]`);
    return { content: text(t, `texts[${i}]`), ...(filePath ? { filePath } : {}) };
  });
}

/** LightRAG's deprecated `GET /documents`: at most this many documents, grouped by status. */
export const STATUSES_LIMIT = 1000;

/** `GET /documents` as LightRAG answers it: `{statuses: {PENDING: [Doc], PROCESSED: [Doc], …}}`. */
export function statusesResponse(documents: readonly StoredDocStatus[]) {
  const statuses: Record<string, ReturnType<typeof lightragDoc>[]> = {};
  for (const d of documents.slice(0, STATUSES_LIMIT)) {
    const key = d.status.toUpperCase();
    statuses[key] = [...(statuses[key] ?? []), lightragDoc(d)];
  }
  return { statuses };
}

/** The query parameters of our `GET /documents`; without any, the request is LightRAG's. */
export const OUR_LIST_PARAMETERS = ['status', 'page', 'page_size', 'sort_field', 'sort_direction'];

/** `DELETE /documents/delete_document`'s body: `{doc_ids, delete_file?, delete_llm_cache?}`. */
export function parseDeleteRequest(body: unknown): {
  docIds: string[];
  deleteFile: boolean;
  deleteLlmCache: boolean;
} {
  const b = requireJsonObject(body, 'The request body must be a JSON object with "doc_ids".');
  const ids = b.doc_ids;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_DELETE_REQUEST_IDS ||
    !ids.every((id) => typeof id === 'string' && id.trim() !== '' && id.length <= 255)
  ) {
    throw new ValidationError(
      `"doc_ids" must be a list of 1 to ${MAX_DELETE_REQUEST_IDS} document ids.`,
      { field: 'doc_ids' },
    );
  }
  const flag = (name: string) => {
    const v = b[name] ?? false;
    if (typeof v !== 'boolean') {
      throw new ValidationError(`"${name}" must be true or false.`, { field: name });
    }
    return v;
  };
  return {
    docIds: ids.map((id: string) => id.trim()),
    deleteFile: flag('delete_file'),
    deleteLlmCache: flag('delete_llm_cache'),
  };
}

/** LightRAG's `InsertResponse` for a submit: `success`, `duplicated`, `partial_success` or `failure`. */
export function insertResponse(
  trackId: string,
  documents: readonly SubmittedDocument[],
): { status: string; message: string; track_id: string } {
  const queued = documents.filter((d) => d.status === 'queued').length;
  const duplicates = documents.filter((d) => d.status === 'duplicate').length;
  const failed = documents.length - queued - duplicates;
  const status =
    queued === documents.length
      ? 'success'
      : duplicates === documents.length
        ? 'duplicated'
        : queued === 0 && duplicates === 0
          ? 'failure'
          : 'partial_success';
  const parts = [
    queued ? `${queued} received; processing continues in the background` : '',
    duplicates ? `${duplicates} already stored (duplicate)` : '',
    failed
      ? `${failed} failed: ${documents
          .filter((d) => d.error)
          .map((d) => d.error)
          .join('; ')}`
      : '',
  ].filter(Boolean);
  return { status, message: `${parts.join('; ')}.`, track_id: trackId };
}
