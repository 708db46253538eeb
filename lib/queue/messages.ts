/**
 * Every message this backend puts on its queues or takes off them, encoded and decoded here and
 * nowhere else (the dependency rule checks it): what each queue carries is read in one file.
 *
 * - ingest queue: a document, `{ "content": "text…", "workspace": "default", "filePath": "a.md",
 *   "trackId": "insert_…", "metadata": {} }`; or one already stored, by id,
 *   `{ "docId": "doc-…", "workspace": "default" }` (too large for a message, or submitted through
 *   the API); or the merge of a fanned-out document, `{ "docId", "workspace", "merge": runId }`;
 *   or background work on stored documents (LightRAG's delete routes): `{ "workspace",
 *   "deleteDocuments": { "docIds": [...], "deleteLlmCache": true } }`, `{ "workspace",
 *   "clearWorkspace": true }`;
 * - extraction queue: one chunk batch of a fanned-out document, `{ "docId", "workspace", "runId",
 *   "batch" }`;
 * - uploads queue: S3's own event notifications (`ObjectCreated:*`), and the same shape sent again
 *   to parse a file whose parse was cut off.
 *
 * Versioned: every message this code writes carries `"v": 1`; a message without `v` is version 1
 * (what callers who enqueue their own documents send). A newer version is refused as retryable, so
 * the message waits for the deployment that understands it instead of being judged by this one.
 * Unknown fields are refused, so a typo is never guessed at.
 */
import { ValidationError } from '../errors.ts';
import { refuseUnknownFields, requireJsonObject } from '../json-fields.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { MAX_ID_LENGTH } from '../storage/workspace-table.ts';
import { sanitizeText } from '../text.ts';
import { validateWorkspace } from '../workspace.ts';

/** The message version this code writes and the newest it reads. */
export const MESSAGE_VERSION = 1;
/** SQS's own limit on a message body. */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/** A message of a newer version than this code reads: leave it for the deployment that does. */
export class NewerMessageError extends ValidationError {
  readonly retryable = true;
  constructor(version: unknown) {
    super(
      `Message version ${String(version)} is newer than this function reads (${MESSAGE_VERSION}): it goes back to the queue (then to its DLQ) until the deployment that writes it reads it too; redrive the DLQ after deploying.`,
      { version },
    );
  }
}

function checkVersion(message: Record<string, unknown>): void {
  const v = message.v;
  if (v === undefined || v === MESSAGE_VERSION) return;
  if (Number.isInteger(v) && (v as number) > MESSAGE_VERSION) throw new NewerMessageError(v);
  throw new ValidationError(`Field "v" must be a message version (1), got ${JSON.stringify(v)}.`, {
    field: 'v',
  });
}

/** The bytes a body takes on the queue, and whether it fits under `maxBytes` (the size rule). */
export function messageSize(body: string, maxBytes = SQS_MAX_MESSAGE_BYTES) {
  const bytes = Buffer.byteLength(body, 'utf8');
  return { bytes, fits: bytes <= maxBytes };
}

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new ValidationError(`${what} is not valid JSON (${(err as Error).message}).`);
  }
}

// ---------------------------------------------------------------- ingest queue

/** A document message of the ingest queue (exactly one of `content` and `docId`). */
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

const INGEST_FIELDS = new Set([
  'v',
  'content',
  'docId',
  'workspace',
  'filePath',
  'trackId',
  'metadata',
  'merge',
]);
/** Characters a message's `filePath` may have. */
export const MAX_FILE_PATH_LENGTH = 1024;
/** Bytes a message's `metadata` may take as JSON. */
export const MAX_METADATA_BYTES = 64 * 1024;
/** Levels a message's `metadata` may nest. */
export const MAX_METADATA_DEPTH = 32;

/**
 * Decodes and validates an ingest-queue message. Every failure is a {@link ValidationError}
 * saying which field is wrong and why ({@link NewerMessageError} for a newer version).
 *
 * @example
 * ```ts
 * decodeIngestMessage('{"content":"hello"}', { maxDocumentBytes: 1e6 }); // { content: 'hello' }
 * ```
 */
export function decodeIngestMessage(
  body: string,
  limits: { maxDocumentBytes: number },
): IngestMessage {
  const { v: _version, ...message } = validateIngestMessage(
    parseJson(body, 'Message body'),
    limits,
  ) as IngestMessage & { v?: number };
  return message;
}

/**
 * A document as an ingest-queue message, validated first (a message the ingest function would
 * refuse is never sent).
 *
 * @example
 * ```ts
 * encodeIngestMessage({ content: 'hello', filePath: 'a.md' }, { maxDocumentBytes: 1e6 });
 * // '{"v":1,"content":"hello","filePath":"a.md"}'
 * ```
 */
export function encodeIngestMessage(
  message: IngestMessage,
  limits: { maxDocumentBytes: number },
): string {
  validateIngestMessage(message, limits);
  return JSON.stringify({ v: MESSAGE_VERSION, ...message });
}

/** A stored document, by id (its content is in the database already). */
export function encodeDocumentReference(ref: {
  docId: string;
  workspace?: string;
  filePath?: string | null;
  trackId?: string;
}): string {
  return JSON.stringify({
    v: MESSAGE_VERSION,
    docId: ref.docId,
    ...(ref.workspace ? { workspace: ref.workspace } : {}),
    ...(ref.filePath ? { filePath: sanitizeText(ref.filePath) } : {}),
    ...(ref.trackId ? { trackId: ref.trackId } : {}),
  });
}

/** The merge of a fanned-out document's extraction run, sent by its last batch. */
export function encodeMergeMessage(m: { docId: string; workspace: string; runId: string }): string {
  return JSON.stringify({
    v: MESSAGE_VERSION,
    docId: m.docId,
    workspace: m.workspace,
    merge: m.runId,
  });
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
  // The version first: a newer message may carry fields this version does not know.
  checkVersion(message);
  refuseUnknownFields(message, INGEST_FIELDS, 'Unknown message field(s)');
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

// ---------------------------------------------------------------- ingest queue: background work

/** Documents deleted in the background (LightRAG's `delete_document` for many ids). */
export interface DeleteDocumentsMessage {
  kind: 'delete';
  workspace: string;
  docIds: string[];
  /** LightRAG's `delete_llm_cache`: the LLM replies cached for the documents' chunks go too. */
  deleteLlmCache: boolean;
}

/** Every document of a workspace deleted in the background (LightRAG's `DELETE /documents`). */
export interface ClearWorkspaceMessage {
  kind: 'clear';
  workspace: string;
}

/** Background work on stored documents, carried by the ingest queue. */
export type MaintenanceMessage = DeleteDocumentsMessage | ClearWorkspaceMessage;

/** Ids one delete message may carry (a request for more is split into several messages). */
export const MAX_DELETE_IDS = 500;

/** A maintenance message for the ingest queue, validated first. */
export function encodeMaintenanceMessage(m: MaintenanceMessage): string {
  const body =
    m.kind === 'delete'
      ? {
          v: MESSAGE_VERSION,
          workspace: m.workspace,
          deleteDocuments: { docIds: m.docIds, deleteLlmCache: m.deleteLlmCache },
        }
      : { v: MESSAGE_VERSION, workspace: m.workspace, clearWorkspace: true };
  const text = JSON.stringify(body);
  decodeMaintenanceMessage(text);
  return text;
}

/**
 * The maintenance message an ingest-queue body holds, or undefined when it holds a document
 * (then {@link decodeIngestMessage} reads it). A malformed one is a {@link ValidationError}.
 */
export function decodeMaintenanceMessage(body: string): MaintenanceMessage | undefined {
  if (!body.includes('"deleteDocuments"') && !body.includes('"clearWorkspace"')) return undefined;
  const m = requireJsonObject(parseJson(body, 'Message body'), 'Message must be a JSON object.');
  if (m.deleteDocuments === undefined && m.clearWorkspace === undefined) return undefined;
  checkVersion(m);
  refuseUnknownFields(
    m,
    new Set(['v', 'workspace', 'deleteDocuments', 'clearWorkspace']),
    'Unknown message field(s)',
  );
  if (typeof m.workspace !== 'string')
    throw fieldError('workspace', 'a workspace name', m.workspace);
  const workspace = validateWorkspace(m.workspace);
  if (m.clearWorkspace !== undefined) {
    if (m.clearWorkspace !== true || m.deleteDocuments !== undefined) {
      throw new ValidationError('"clearWorkspace" must be true, alone.', {
        field: 'clearWorkspace',
      });
    }
    return { kind: 'clear', workspace };
  }
  const d = requireJsonObject(m.deleteDocuments, '"deleteDocuments" must be a JSON object.');
  refuseUnknownFields(d, new Set(['docIds', 'deleteLlmCache']), 'Unknown deleteDocuments field(s)');
  const ids = d.docIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_DELETE_IDS ||
    !ids.every(
      (id) =>
        typeof id === 'string' &&
        id.length > 0 &&
        id.length <= MAX_ID_LENGTH &&
        !id.includes('\u0000'),
    )
  ) {
    throw fieldError('deleteDocuments.docIds', `1-${MAX_DELETE_IDS} document ids`, ids);
  }
  if (typeof d.deleteLlmCache !== 'boolean') {
    throw fieldError('deleteDocuments.deleteLlmCache', 'true or false', d.deleteLlmCache);
  }
  return { kind: 'delete', workspace, docIds: ids as string[], deleteLlmCache: d.deleteLlmCache };
}

// ---------------------------------------------------------------- extraction queue

/** One chunk batch of a fanned-out document. */
export interface ExtractionMessage {
  docId: string;
  workspace: string;
  runId: string;
  batch: number;
}

const EXTRACTION_FIELDS = new Set(['v', 'docId', 'workspace', 'runId', 'batch']);

/** One chunk batch of a fanned-out document, for the extraction queue. */
export function encodeExtractionMessage(m: ExtractionMessage): string {
  return JSON.stringify({
    v: MESSAGE_VERSION,
    docId: m.docId,
    workspace: m.workspace,
    runId: m.runId,
    batch: m.batch,
  });
}

/** Decodes an extraction-queue message; a malformed one is a {@link ValidationError}. */
export function decodeExtractionMessage(body: string): ExtractionMessage {
  const m = requireJsonObject(
    parseJson(body, 'Extraction message'),
    'Extraction message must be a JSON object.',
  );
  checkVersion(m);
  refuseUnknownFields(m, EXTRACTION_FIELDS, 'Unknown extraction message field(s)');
  const text = (field: string, max: number) => {
    const v = m[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > max || v.includes('\u0000')) {
      throw new ValidationError(
        `Extraction message field "${field}" must be a string of 1-${max} characters.`,
      );
    }
    return v;
  };
  if (!Number.isInteger(m.batch) || (m.batch as number) < 0) {
    throw new ValidationError('Extraction message field "batch" must be a non-negative integer.');
  }
  return {
    docId: text('docId', 255),
    workspace: validateWorkspace(m.workspace),
    runId: text('runId', 64),
    batch: m.batch as number,
  };
}

// ---------------------------------------------------------------- uploads queue (S3's format)

/** One object an S3 event notification announces (its key decoded). */
export interface S3ObjectEvent {
  bucket: string;
  key: string;
  size: number;
}

/**
 * The created objects an S3 event notification (the body of an uploads-queue message)
 * announces; S3's test event (`s3:TestEvent`, sent when the notification is configured) announces
 * none.
 */
export function decodeS3Event(body: string): S3ObjectEvent[] {
  const e = parseJson(body, 'Upload event') as { Event?: string; Records?: unknown };
  if (e?.Event === 's3:TestEvent') return [];
  if (!Array.isArray(e?.Records)) {
    throw new ValidationError('Upload event has no "Records": not an S3 event notification.');
  }
  return e.Records.filter((r: { eventName?: string }) =>
    String(r?.eventName ?? '').startsWith('ObjectCreated:'),
  ).map(
    (r: { s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; size?: unknown } } }) => {
      const bucket = r.s3?.bucket?.name;
      const rawKey = r.s3?.object?.key;
      if (typeof bucket !== 'string' || typeof rawKey !== 'string') {
        throw new ValidationError('Upload event record lacks s3.bucket.name or s3.object.key.');
      }
      // S3 event keys are URL-encoded with "+" for spaces.
      const key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      return { bucket, key, size: Number(r.s3?.object?.size ?? 0) };
    },
  );
}

/**
 * The S3 event notification for one created object, as S3 sends it to the uploads queue: what
 * the local stack's bucket sends, and what reprocessing sends again for a cut-off parse.
 */
export function encodeS3ObjectCreated(
  bucket: string,
  key: string,
  size: number,
  eTag = '',
  region = 'us-east-1',
): string {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'uploads',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encoded, size, eTag },
        },
      },
    ],
  });
}
