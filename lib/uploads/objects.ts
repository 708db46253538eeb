/**
 * Where an upload lives in the bucket, and what S3 says when one arrives. The object key names
 * the workspace and document, so the event alone says which document a file belongs to:
 * `uploads/{workspace, percent-encoded}/{docId}/{ticket}/{file name, percent-encoded}`.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { validateWorkspace } from '../workspace.ts';

export const UPLOAD_PREFIX = 'uploads/';

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
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch (err) {
    throw new ValidationError(`Upload event is not valid JSON (${(err as Error).message}).`);
  }
  const e = event as { Event?: string; Records?: unknown };
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
      return { bucket, key, size: Number(r.s3?.object?.size ?? 0), ...parseUploadKey(key) };
    },
  );
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

/**
 * The body S3 sends to the uploads queue when an object is created (event notification
 * version 2.1, key URL-encoded with "+" for spaces). The local stack sends it for every upload,
 * and reprocessing a file whose parse was cut off sends it again.
 *
 * @example
 * ```ts
 * objectCreatedEvent('uploads-bucket', uploadKey('default', docId, 'a.pdf'), 1024);
 * ```
 */
export function objectCreatedEvent(
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
