/**
 * LightRAG Server's upload form: `multipart/form-data` with one `file` field, the file inside the
 * request. Parsed with busboy (the well-kept streaming parser behind most Node multipart
 * middleware), within the size a request can carry through API Gateway and Lambda.
 *
 * What fits: Lambda accepts a synchronous invocation of at most 6 MiB (6,291,456 bytes) of event
 * JSON, and API Gateway base64-encodes a binary body into it (4/3 of its size), next to a few KiB
 * of headers and context: about 4.7 MB of multipart body. {@link MAX_MULTIPART_FILE_BYTES} keeps
 * a margin below that; a larger file gets 413 pointing to the presigned upload route, which
 * takes files up to MAX_UPLOAD_BYTES straight to S3.
 */
import busboy from 'busboy';
import { HttpError } from '../errors.ts';

/** The largest file accepted inside a request (4 MiB). */
export const MAX_MULTIPART_FILE_BYTES = 4 * 1024 * 1024;

/** The one file of a LightRAG upload form. */
export interface FormFile {
  fileName: string;
  contentType: string;
  bytes: Buffer;
}

const tooLarge = () =>
  new HttpError(
    413,
    'PAYLOAD_TOO_LARGE',
    `A file sent inside the request may have at most ${MAX_MULTIPART_FILE_BYTES} bytes (API Gateway and Lambda carry about 4.7 MB); upload larger files with POST /documents/upload as JSON {"fileName", "size"}, which returns a presigned URL for files up to MAX_UPLOAD_BYTES.`,
    { limit: MAX_MULTIPART_FILE_BYTES },
  );

/**
 * The `file` field of a `multipart/form-data` body (`body` as API Gateway gives it).
 *
 * @example
 * ```ts
 * const file = await parseUploadForm(contentType, Buffer.from(event.body!, 'base64'));
 * ```
 */
export function parseUploadForm(contentType: string, body: Buffer): Promise<FormFile> {
  if (body.length > MAX_MULTIPART_FILE_BYTES + 64 * 1024) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    let file: FormFile | undefined;
    let failure: Error | undefined;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { files: 1, fileSize: MAX_MULTIPART_FILE_BYTES, fields: 20, parts: 21 },
      });
    } catch (err) {
      reject(
        new HttpError(
          400,
          'VALIDATION_FAILED',
          `Not a multipart/form-data body: ${(err as Error).message}.`,
        ),
      );
      return;
    }
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        failure = tooLarge();
      });
      stream.on('close', () => {
        if (field !== 'file' || failure) return;
        file = {
          fileName: info.filename ?? '',
          contentType: info.mimeType ?? 'application/octet-stream',
          bytes: Buffer.concat(chunks),
        };
      });
    });
    parser.on('filesLimit', () => {
      failure ??= new HttpError(
        400,
        'VALIDATION_FAILED',
        'Send one file per request, in the field "file".',
      );
    });
    parser.on('error', (err: Error) =>
      reject(new HttpError(400, 'VALIDATION_FAILED', `Malformed multipart body: ${err.message}.`)),
    );
    parser.on('close', () => {
      if (failure) reject(failure);
      else if (!file || file.bytes.length === 0 || !file.fileName)
        reject(
          new HttpError(
            400,
            'VALIDATION_FAILED',
            'The form needs a non-empty file in the field "file".',
            {
              field: 'file',
            },
          ),
        );
      else resolve(file);
    });
    parser.end(body);
  });
}
