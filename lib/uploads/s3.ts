/**
 * The uploads bucket through the AWS SDK: presigned PUT URLs (@aws-sdk/s3-request-presigner) and
 * bounded reads. The SDK loads on first use, keeping it out of cold starts that never upload.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { UploadConfig } from '../config.ts';
import { FileRejectedError, ProviderError } from '../errors.ts';

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
 * A URL the caller PUTs the file to, valid for `UPLOAD_URL_EXPIRES_SECONDS`.
 *
 * @example
 * ```ts
 * const { url, expiresAt } = await presignUpload(config.uploads, key, 'application/pdf');
 * ```
 */
export async function presignUpload(
  config: UploadConfig,
  key: string,
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
    ...(contentType ? { ContentType: contentType } : {}),
  });
  const url = await getSignedUrl(s3, command, { expiresIn: config.urlExpiresSeconds });
  return {
    url,
    headers: contentType ? { 'content-type': contentType } : {},
    expiresAt: new Date(Date.now() + config.urlExpiresSeconds * 1000).toISOString(),
  };
}

/** The object's bytes; refuses one over `maxBytes` before reading it. */
export async function readUpload(
  config: UploadConfig,
  bucket: string,
  key: string,
): Promise<Uint8Array> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3Client(config);
  let response: import('@aws-sdk/client-s3').GetObjectCommandOutput;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
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
  return (await response.Body?.transformToByteArray()) ?? new Uint8Array();
}
