/**
 * Documents as files, first half (the documents function): `requestUpload` names the document
 * after its file (LightRAG 1.5's id from the basename), records it `pending` with
 * `parse_format: pending_parse`, and answers with a presigned PUT URL, so files never pass
 * through API Gateway. The second half is lib/uploads/parse.ts (the parse function), kept apart
 * so the parsers stay out of this bundle.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { UploadsNotConfiguredError, ValidationError } from '../errors.ts';
import { canonicalFilePath, documentIdFor, generateTrackId, hasFileName } from '../ids.ts';
import { duplicateRecord } from '../pipeline/identity.ts';
import type { StoredDocStatus } from '../storage/doc-status.ts';
import type { Storages } from '../storage/index.ts';
import { newStatus } from '../storage/status-rows.ts';
import { uploadKey } from './objects.ts';
import { presignUpload, putUpload } from './s3.ts';

/** `POST /documents/upload`'s request. */
export interface UploadRequest {
  fileName: string;
  /** The file's length in bytes: the URL is signed for exactly that many. */
  size: number;
  contentType?: string;
  trackId?: string;
  metadata?: Record<string, unknown>;
}

/** `POST /documents/upload`'s answer: where to PUT the file, or the document that has its name. */
export interface UploadTicket {
  /** `pending`: PUT the file to `upload.url`; `duplicated`: a document of that name exists. */
  status: 'pending' | 'duplicated';
  docId: string;
  trackId: string;
  fileName: string;
  upload?: {
    method: 'PUT';
    /** Exactly the file's bytes: S3 refuses another length, and a second PUT to the same key. */
    url: string;
    headers: Record<string, string>;
    expiresAt: string;
    key: string;
  };
  message?: string;
}

/** Statuses in which a document may (again) receive its file. */
export const AWAITING_FILE = new Set(['pending', 'failed']);

export class UploadRequests {
  readonly #db: Database;
  readonly #config: Config;

  constructor(db: Database, config: Config) {
    this.#db = db;
    this.#config = config;
  }

  /**
   * Records an upload and returns where to PUT the file.
   *
   * @example
   * ```ts
   * const ticket = await uploads.requestUpload(s, { fileName: 'report.pdf', size: bytes.length });
   * await fetch(ticket.upload!.url, { method: 'PUT', body: bytes });
   * ```
   */
  /**
   * A file that came inside the request (LightRAG's multipart upload): its ticket taken as for a
   * presigned upload, then the bytes stored under the ticket's key, so S3 reports them to the
   * parse function the same way. A name already taken is a duplicate, whatever its status.
   */
  async uploadFile(
    s: Storages,
    file: { fileName: string; bytes: Uint8Array; contentType?: string },
  ): Promise<UploadTicket> {
    // The file comes with the request: a document of that name in any state (even one still
    // waiting for its parse) is a duplicate, as LightRAG answers it.
    const fileName = canonicalFilePath(file.fileName);
    const existing = hasFileName(fileName)
      ? await s.docStatus.getById(documentIdFor('', fileName, '1.5'))
      : null;
    if (existing) {
      return {
        status: 'duplicated',
        docId: existing.id,
        trackId: existing.track_id ?? '',
        fileName,
        message: `A document named ${fileName} exists (${existing.status}).`,
      };
    }
    const ticket = await this.requestUpload(s, {
      fileName: file.fileName,
      size: file.bytes.length,
      ...(file.contentType ? { contentType: file.contentType } : {}),
    });
    if (ticket.status !== 'pending' || !ticket.upload) return ticket;
    await putUpload(this.#config.uploads, ticket.upload.key, file.bytes, file.contentType);
    return ticket;
  }

  async requestUpload(s: Storages, request: UploadRequest): Promise<UploadTicket> {
    const { bucket } = this.#config.uploads;
    if (!bucket) throw new UploadsNotConfiguredError();
    if (this.#config.ingest.idRules !== '1.5') {
      throw new ValidationError(
        'Uploads name documents after their files (LightRAG 1.5 ids); they need LIGHTRAG_ID_RULES=1.5.',
      );
    }
    const fileName = canonicalFilePath(request.fileName);
    if (!hasFileName(fileName)) {
      throw new ValidationError('"fileName" must name a file, e.g. "report.pdf".', {
        field: 'fileName',
      });
    }
    const { maxFileBytes } = this.#config.uploads;
    if (request.size > maxFileBytes) {
      throw new ValidationError(
        `The file is ${request.size} bytes, over the ${maxFileBytes}-byte limit (MAX_UPLOAD_BYTES); split it.`,
        { field: 'size', limit: maxFileBytes },
      );
    }
    const docId = documentIdFor('', fileName, '1.5');
    const trackId = request.trackId ?? generateTrackId('upload');
    const found = await s.docStatus.findIdentity(docId, fileName, '');
    const self = found.self;
    const original = self && !isOwnUpload(self) ? self : found.sameName ? found.other : null;
    if (original) {
      // LightRAG records the attempt as a `dup-…` row and keeps the original.
      await s.docStatus.upsert([
        duplicateRecord(
          { docId, filePath: fileName, existing: self, duplicate: { kind: 'filename', original } },
          '',
          trackId,
        ),
      ]);
      return {
        status: 'duplicated',
        docId: original.id,
        trackId,
        fileName,
        message: `A document named ${fileName} already exists (${original.id}); delete it first to replace it.`,
      };
    }
    const key = uploadKey(s.workspace, docId, fileName);
    // The caller's metadata lives under its own key: the pipeline's keys (upload, error_type,
    // file_rejection, is_duplicate, parse_message_id, …) are never the caller's to set.
    const metadata = {
      ...(request.metadata !== undefined ? { caller: request.metadata } : {}),
      upload: { bucket, key, requested_at: new Date().toISOString() },
    };
    await this.#db.withTransaction(async (tx) => {
      const t = s.in(tx);
      await t.fullDocs.upsert([
        { id: docId, content: '', file_path: fileName, meta: null, parse_format: 'pending_parse' },
      ]);
      // No text yet: LightRAG's -1 chunks marks a file still to be parsed.
      await t.docStatus.upsert([
        newStatus(docId, {
          status: 'pending',
          file_path: fileName,
          track_id: trackId,
          metadata,
          chunks_count: -1,
        }),
      ]);
    });
    const signed = await presignUpload(
      this.#config.uploads,
      key,
      request.size,
      request.contentType,
    );
    return {
      status: 'pending',
      docId,
      trackId,
      fileName,
      upload: { method: 'PUT', ...signed, key },
    };
  }
}

function isOwnUpload(row: StoredDocStatus): boolean {
  return AWAITING_FILE.has(row.status) && row.metadata.upload !== undefined;
}
