/**
 * Where an upload lives in the bucket, and what S3 says when one arrives. The object key names
 * the workspace and document, so the event alone says which document a file belongs to:
 * `uploads/{workspace, percent-encoded}/{docId}/{ticket}/{file name, percent-encoded}`.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { decodeS3Event } from '../queue/messages.ts';
import { validateWorkspace } from '../workspace.ts';

export const UPLOAD_PREFIX = 'uploads/';

/** An uploaded object and the document its key names. */
export interface UploadedObject {
  bucket: string;
  key: string;
  size: number;
  workspace: string;
  docId: string;
  fileName: string;
}

/**
 * The object key of one upload ticket of a document. Each ticket has its own key (`ticket`, a
 * random `t-` + 12 hex): the URL is signed `If-None-Match: *`, so a file uploaded again after a
 * failure needs a fresh key, and an object of an older ticket is never read as the new one.
 */
export function uploadKey(
  workspace: string,
  docId: string,
  fileName: string,
  ticket = `t-${randomBytes(6).toString('hex')}`,
): string {
  return `${UPLOAD_PREFIX}${encodeURIComponent(workspace)}/${docId}/${ticket}/${encodeURIComponent(fileName)}`;
}

/**
 * The uploads an S3 event notification (the body of an SQS message) announces. A test event
 * (`s3:TestEvent`, sent when the notification is configured) announces none.
 *
 * @example
 * ```ts
 * uploadsInEvent(record.body); // [{ bucket, key, size, workspace: 'default', docId: 'doc-…', fileName: 'a.pdf' }]
 * ```
 */
export function uploadsInEvent(body: string): UploadedObject[] {
  return decodeS3Event(body).map((o) => ({ ...o, ...parseUploadKey(o.key) }));
}

/** Workspace, document id and file name from an upload's key; refuses any other key. */
export function parseUploadKey(key: string): {
  workspace: string;
  docId: string;
  fileName: string;
} {
  const all = key.startsWith(UPLOAD_PREFIX) ? key.slice(UPLOAD_PREFIX.length).split('/') : [];
  // uploads/{workspace}/{docId}/{ticket}/{file}; keys of earlier releases have no ticket.
  const ticketed = all.length === 4 && /^t-[0-9a-f]{12}$/.test(all[2]!);
  const parts = ticketed ? [all[0]!, all[1]!, all[3]!] : all;
  if (parts.length !== 3 || !/^doc-[0-9a-f]{32}$/.test(parts[1]!)) {
    throw new ValidationError(
      `Object key ${JSON.stringify(key.slice(0, 200))} is not an upload key (uploads/{workspace}/{docId}/{ticket}/{file}); request uploads with POST /documents/upload.`,
    );
  }
  let workspace: string;
  let fileName: string;
  try {
    workspace = decodeURIComponent(parts[0]!);
    fileName = decodeURIComponent(parts[2]!);
  } catch {
    throw new ValidationError(
      `Object key ${JSON.stringify(key.slice(0, 200))} is not percent-encoded.`,
    );
  }
  return { workspace: validateWorkspace(workspace), docId: parts[1]!, fileName };
}
