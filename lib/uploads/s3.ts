/**
 * The uploads bucket through the AWS SDK: presigned PUT URLs (@aws-sdk/s3-request-presigner) and
 * bounded reads. The SDK loads on first use, keeping it out of cold starts that never upload.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { UploadConfig } from '../config.ts';
import { FileRejectedError, ProviderError } from '../errors.ts';
import { AWS_REQUEST_TIMEOUTS } from '../queue/sqs.ts';

const clients = new Map<string, Promise<S3Client>>();

/** One S3 client per container and endpoint (path-style when an endpoint, a local emulator, is set). */
export function s3Client(config: Pick<UploadConfig, 'endpoint' | 'region'>): Promise<S3Client> {
  const id = `${config.region} ${config.endpoint ?? ''}`;
  let client = clients.get(id);
  if (client) return client;
  client = (async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    return new S3Client({
      region: config.region,
      requestHandler: AWS_REQUEST_TIMEOUTS,
      // Otherwise the SDK signs a checksum of the empty body into presigned PUT URLs, and S3
      // refuses the real upload.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
      ...(config.endpoint && !process.env.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    });
  })();
  clients.set(id, client);
  return client;
}

/**
 * A URL the caller PUTs the file to, valid for `UPLOAD_URL_EXPIRES_SECONDS`. Signed into it: the
 * length (S3 refuses a body of any other size), the content type when given, and
 * `If-None-Match: *` (S3 refuses to replace an object already there: one object per ticket, so
 * a second PUT cannot swap the file the database has read). The caller sends `headers`; the
 * length is the body's own.
 *
 * @example
 * ```ts
 * const { url, headers } = await presignUpload(config.uploads, key, bytes.length, 'application/pdf');
 * await fetch(url, { method: 'PUT', headers, body: bytes });
 * ```
 */
export async function presignUpload(
  config: UploadConfig,
  key: string,
  size: number,
  contentType: string | undefined,
): Promise<{ url: string; headers: Record<string, string>; expiresAt: string }> {
  const [{ PutObjectCommand }, { getSignedUrl }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  const s3 = await s3Client(config);
  const command = new PutObjectCommand({
    Bucket: config.bucket,
    Key: key,
    ContentLength: size,
    IfNoneMatch: '*',
    ...(contentType ? { ContentType: contentType } : {}),
  });
  const url = await getSignedUrl(s3, command, {
    expiresIn: config.urlExpiresSeconds,
    // The presigner leaves content-type unsigned by default (aws-sdk-js-v3#3497).
    signableHeaders: new Set([
      'content-length',
      'if-none-match',
      ...(contentType ? ['content-type'] : []),
    ]),
  });
  return {
    url,
    headers: { 'if-none-match': '*', ...(contentType ? { 'content-type': contentType } : {}) },
    expiresAt: new Date(Date.now() + config.urlExpiresSeconds * 1000).toISOString(),
  };
}

/**
 * Stores a file that came inside a request (LightRAG's multipart upload) under its ticket's key,
 * as its presigned PUT would: once (`If-None-Match: *`), with its content type.
 */
export async function putUpload(
  config: UploadConfig,
  key: string,
  bytes: Uint8Array,
  contentType: string | undefined,
): Promise<void> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3Client(config);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: key,
        Body: bytes,
        IfNoneMatch: '*',
        ...(contentType ? { ContentType: contentType } : {}),
      }),
      { abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS) },
    );
  } catch (err) {
    const name = (err as { name?: string }).name;
    throw new ProviderError(
      's3',
      `could not store s3://${config.bucket}/${key} (${name ?? 'error'})`,
      {
        retryable: name !== 'AccessDenied',
        cause: err,
      },
    );
  }
}

/** The object's bytes; refuses one over `MAX_UPLOAD_BYTES` (`config.maxFileBytes`) before reading it. */
export async function readUpload(
  config: UploadConfig,
  bucket: string,
  key: string,
): Promise<Uint8Array> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3Client(config);
  let response: import('@aws-sdk/client-s3').GetObjectCommandOutput;
  // The whole read, body included, within a bound: a stalled transfer is retried later.
  const signal = AbortSignal.timeout(READ_TIMEOUT_MS);
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal,
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    throw new ProviderError('s3', `could not read s3://${bucket}/${key} (${name ?? 'error'})`, {
      retryable: name !== 'NoSuchKey' && name !== 'AccessDenied',
      cause: err,
    });
  }
  if ((response.ContentLength ?? 0) > config.maxFileBytes) {
    throw new FileRejectedError(
      'too_large',
      `The file is ${response.ContentLength} bytes, over the ${config.maxFileBytes}-byte limit (MAX_UPLOAD_BYTES).`,
      { bytes: response.ContentLength, limit: config.maxFileBytes },
    );
  }
  try {
    return (await response.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (err) {
    throw new ProviderError('s3', `could not read s3://${bucket}/${key} to its end`, {
      retryable: true,
      cause: err,
    });
  }
}

/** Reading one upload (at most MAX_UPLOAD_BYTES) may take this long. */
const READ_TIMEOUT_MS = 120_000;
