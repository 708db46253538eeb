/**
 * The ingest queue's message contract: one document per message, JSON.
 *
 * ```json
 * { "content": "text…", "workspace": "default", "filePath": "a.md", "trackId": "insert_…", "metadata": {} }
 * { "docId": "doc-…", "workspace": "default" }   // a document already stored (too large for a message)
 * ```
 * Exactly one of `content` or `docId`. Unknown fields are refused, so a typo is never guessed at.
 */

import { ValidationError } from '../errors.ts';
import { refuseUnknownFields, requireJsonObject } from '../json-fields.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { MAX_ID_LENGTH } from '../storage/workspace-table.ts';
import { validateWorkspace } from '../workspace.ts';

export interface IngestMessage {
  content?: string;
  docId?: string;
  workspace?: string;
  filePath?: string;
  trackId?: string;
  metadata?: Record<string, unknown>;
  /** Sent by the last extraction batch of a fanned-out document: merge that run. */
  merge?: string;
}

const FIELDS = new Set([
  'content',
  'docId',
  'workspace',
  'filePath',
  'trackId',
  'metadata',
  'merge',
]);
export const MAX_FILE_PATH_LENGTH = 1024;
export const MAX_METADATA_BYTES = 64 * 1024;
export const MAX_METADATA_DEPTH = 32;

/**
 * Parses and validates a message body. Every failure is a {@link ValidationError} saying which
 * field is wrong and why.
 *
 * @example
 * ```ts
 * parseIngestMessage('{"content":"hello"}', { maxDocumentBytes: 1e6 }); // { content: 'hello' }
 * ```
 */
export function parseIngestMessage(
  body: string,
  limits: { maxDocumentBytes: number },
): IngestMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new ValidationError(`Message body is not valid JSON (${(err as Error).message}).`);
  }
  return validateIngestMessage(parsed, limits);
}

/** Validates an already-parsed message (the enqueue client checks before sending). */
export function validateIngestMessage(
  value: unknown,
  limits: { maxDocumentBytes: number },
): IngestMessage {
  const message = requireJsonObject(
    value,
    'Message must be a JSON object with "content" or "docId".',
  );
  refuseUnknownFields(message, FIELDS, 'Unknown message field(s)');
  const hasContent = message.content !== undefined;
  const hasDocId = message.docId !== undefined;
  if (hasContent === hasDocId) {
    throw new ValidationError(
      'Message needs exactly one of "content" (the text) or "docId" (a stored document).',
    );
  }
  if (hasContent) {
    if (typeof message.content !== 'string')
      throw fieldError('content', 'a string', message.content);
    const bytes = Buffer.byteLength(message.content, 'utf8');
    if (bytes > limits.maxDocumentBytes) {
      throw new ValidationError(
        `Document is ${bytes} bytes, over the ${limits.maxDocumentBytes}-byte limit (MAX_DOCUMENT_BYTES).`,
        { bytes, limit: limits.maxDocumentBytes },
      );
    }
    if (message.content.replaceAll('\u0000', '').trim() === '') {
      throw new ValidationError(
        'Document content is empty (or only whitespace and NUL characters).',
      );
    }
  }
  if (hasDocId) {
    const id = message.docId;
    if (
      typeof id !== 'string' ||
      id.length === 0 ||
      id.length > MAX_ID_LENGTH ||
      id.includes('\u0000')
    ) {
      throw fieldError('docId', `a string of 1-${MAX_ID_LENGTH} characters without NUL`, id);
    }
  }
  if (message.workspace !== undefined) validateWorkspace(message.workspace);
  optionalString(message, 'filePath', MAX_FILE_PATH_LENGTH);
  // The graph joins file paths with <SEP>: one inside a name would split into fake paths.
  if (typeof message.filePath === 'string' && message.filePath.includes(GRAPH_FIELD_SEP)) {
    throw new ValidationError(
      `Field "filePath" must not contain "${GRAPH_FIELD_SEP}" (LightRAG's field separator).`,
      { field: 'filePath' },
    );
  }
  // A file path is a label shown in answers and logs: no control characters (log injection).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (typeof message.filePath === 'string' && /[\u0000-\u001f\u007f]/.test(message.filePath)) {
    throw new ValidationError('Field "filePath" must not contain control characters.', {
      field: 'filePath',
    });
  }
  optionalString(message, 'trackId', 255);
  optionalString(message, 'merge', 64);
  if (message.merge !== undefined && !hasDocId) {
    throw new ValidationError('A "merge" message names the stored document by "docId".', {
      field: 'merge',
    });
  }
  if (message.metadata !== undefined) validateMetadata(message.metadata);
  return message as IngestMessage;
}

function optionalString(message: Record<string, unknown>, field: string, maxLength: number): void {
  const value = message[field];
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw fieldError(field, `a string of 1-${maxLength} characters`, value);
  }
}

function validateMetadata(metadata: unknown): void {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw fieldError('metadata', 'a JSON object', metadata);
  }
  const depth = (v: unknown, d: number): number => {
    if (d > MAX_METADATA_DEPTH) return d;
    if (v === null || typeof v !== 'object') return d;
    let max = d;
    for (const child of Object.values(v)) max = Math.max(max, depth(child, d + 1));
    return max;
  };
  if (depth(metadata, 1) > MAX_METADATA_DEPTH) {
    throw new ValidationError(`metadata is nested deeper than ${MAX_METADATA_DEPTH} levels.`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES) {
    throw new ValidationError(
      `metadata is ${bytes} bytes, over the ${MAX_METADATA_BYTES}-byte limit.`,
    );
  }
}

function fieldError(field: string, expected: string, got: unknown): ValidationError {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  return new ValidationError(`Field "${field}" must be ${expected}, got ${kind}.`, { field });
}
