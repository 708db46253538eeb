/**
 * Request bodies of the documents routes, parsed and checked before the use cases run
 * (lib/documents/service.ts): the handler parses, the service acts.
 */
import { ValidationError } from '../errors.ts';
import { refuseUnknownFields, requireJsonObject } from '../json-fields.ts';

export const MAX_DOCUMENTS_PER_REQUEST = 100;
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
