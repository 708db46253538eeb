/**
 * Request bodies of the documents routes, parsed and checked before the use cases run
 * (lib/documents/service.ts): the handler parses, the service acts.
 */
import { ValidationError } from '../errors.ts';
import { refuseUnknownFields, requireJsonObject } from '../json-fields.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { MAX_FILE_PATH_LENGTH, validateIngestMessage } from '../queue/messages.ts';
import { DOC_STATUSES, type DocStatus } from '../storage/doc-status.ts';
import type { UploadRequest } from '../uploads/request.ts';

export const MAX_DOCUMENTS_PER_REQUEST = 100;

/** `GET /documents?status=`: one of LightRAG's document statuses, or none. */
export function parseStatusFilter(status: string | undefined): DocStatus | undefined {
  if (status === undefined) return undefined;
  if (!DOC_STATUSES.includes(status as DocStatus))
    throw new ValidationError(`"status" must be one of ${DOC_STATUSES.join(', ')}.`, { status });
  return status as DocStatus;
}
export const MAX_REPROCESS_IDS = 1000;

/**
 * `POST /documents`: `{ "content", "filePath"?, "metadata"? }` or `{ "documents": [ … ] }` (at
 * most 100). Returns the documents; each is validated on its own by the service.
 */
export function parseSubmitRequest(body: unknown): Array<Record<string, unknown>> {
  return documentsOf(body);
}

/** `POST /documents/reprocess`: `{ "docIds"?: string[] }`; no ids means every failed document. */
export function parseReprocessRequest(body: unknown): string[] | undefined {
  const b = requireJsonObject(
    body ?? {},
    'The body must be a JSON object such as {"docIds": [ … ]}.',
  );
  refuseUnknownFields(b, new Set(['docIds', 'workspace']), 'Unknown field(s)');
  const ids = b.docIds;
  if (ids === undefined) return undefined;
  if (
    !Array.isArray(ids) ||
    ids.length > MAX_REPROCESS_IDS ||
    !ids.every((id) => typeof id === 'string')
  ) {
    throw new ValidationError(
      `"docIds" must be an array of at most ${MAX_REPROCESS_IDS} document ids.`,
      { field: 'docIds' },
    );
  }
  return ids as string[];
}

/**
 * `POST /documents/upload`: `{ "fileName", "size", "contentType"?, "trackId"?, "metadata"?,
 * "workspace"? }`. `size` is the file's length in bytes: the URL is signed for exactly that many.
 */
export function parseUploadRequest(body: unknown): UploadRequest {
  const b = requireJsonObject(
    body,
    'The body must be a JSON object such as {"fileName": "report.pdf"}.',
  );
  refuseUnknownFields(
    b,
    new Set(['fileName', 'size', 'contentType', 'trackId', 'metadata', 'workspace']),
    'Unknown field(s)',
  );
  const text = (field: string, max: number, pattern?: RegExp) => {
    const v = b[field];
    if (v === undefined) return undefined;
    if (
      typeof v !== 'string' ||
      v.length === 0 ||
      v.length > max ||
      CONTROL.test(v) ||
      !v.isWellFormed() ||
      (pattern && !pattern.test(v))
    ) {
      throw new ValidationError(
        `"${field}" must be a string of 1-${max} characters${pattern ? ` matching ${pattern}` : ''} without control characters or unpaired surrogates.`,
        { field },
      );
    }
    return v;
  };
  const fileName = text('fileName', MAX_FILE_PATH_LENGTH);
  if (fileName === undefined) {
    throw new ValidationError('"fileName" is required, e.g. {"fileName": "report.pdf"}.', {
      field: 'fileName',
    });
  }
  const base = fileName.split('/').at(-1)!.trim();
  if (base === '.' || base === '..') {
    throw new ValidationError('"fileName" must name a file, not "." or "..".', {
      field: 'fileName',
    });
  }
  // The object key (uploads/{workspace}/{docId}/{name}, percent-encoded) must fit S3's 1,024 bytes.
  if (encodeURIComponent(base).length > MAX_ENCODED_FILE_NAME) {
    throw new ValidationError(
      `"fileName" is too long once percent-encoded for its S3 key (${encodeURIComponent(base).length} bytes, at most ${MAX_ENCODED_FILE_NAME}); shorten it.`,
      { field: 'fileName' },
    );
  }
  if (fileName.includes(GRAPH_FIELD_SEP)) {
    throw new ValidationError(
      `"fileName" must not contain "${GRAPH_FIELD_SEP}" (LightRAG's field separator).`,
      { field: 'fileName' },
    );
  }
  const size = b.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new ValidationError(
      '"size" is required: the file\'s length in bytes, a positive integer (the upload URL is signed for exactly that many).',
      { field: 'size' },
    );
  }
  const metadata = b.metadata;
  if (metadata !== undefined)
    validateIngestMessage({ docId: 'x', metadata }, { maxDocumentBytes: 1 });
  return {
    fileName,
    size,
    contentType: text('contentType', 255, /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/),
    trackId: text('trackId', 255),
    ...(metadata !== undefined ? { metadata: metadata as Record<string, unknown> } : {}),
  };
}

/**
 * Longest percent-encoded file name: S3 keys are at most 1,024 bytes, and the rest of the key
 * (`uploads/`, a workspace of up to 255 characters, the document id, the ticket, slashes) takes 316.
 */
const MAX_ENCODED_FILE_NAME = 700;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused.
const CONTROL = /[\u0000-\u001f\u007f]/;

const ENVELOPE_FIELDS = new Set(['documents', 'workspace']);

function documentsOf(body: unknown): Array<Record<string, unknown>> {
  const b = requireJsonObject(
    body,
    'The body must be a document {"content": …} or {"documents": [ … ]}.',
  );
  if (b.documents === undefined) {
    const { workspace: _ignored, ...document } = b;
    return [document];
  }
  refuseUnknownFields(b, ENVELOPE_FIELDS, 'Unknown field(s) next to "documents":');
  if (
    !Array.isArray(b.documents) ||
    b.documents.length === 0 ||
    b.documents.length > MAX_DOCUMENTS_PER_REQUEST
  ) {
    throw new ValidationError(
      `"documents" must be an array of 1-${MAX_DOCUMENTS_PER_REQUEST} documents.`,
      { field: 'documents' },
    );
  }
  return b.documents.map((d, i) => {
    if (d === null || typeof d !== 'object' || Array.isArray(d)) {
      throw new ValidationError(`"documents[${i}]" must be an object with "content".`, {
        field: 'documents',
      });
    }
    return d as Record<string, unknown>;
  });
}
