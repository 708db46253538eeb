/**
 * Documents as files. `requestUpload` names the document after its file (LightRAG 1.5's id from
 * the basename), records it `pending` with `parse_format: pending_parse`, and answers with a
 * presigned PUT URL, so files never pass through API Gateway. When S3 reports the object,
 * `parseUpload` reads it, turns it into text (lib/parsers) and hands the document to the ingest
 * queue: `pending` → `parsing` → `analyzing` → (ingest) `processing` → `processed`, as LightRAG
 * 1.5 moves an upload. A file that cannot be parsed is `failed` with the reason and
 * `metadata.error_type: "file_extraction_error"`; nothing else changes.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { lockDocument } from '../db/locks.ts';
import {
  FileRejectedError,
  isRetryable,
  QueueNotConfiguredError,
  UploadsNotConfiguredError,
  ValidationError,
} from '../errors.ts';
import { canonicalFilePath, documentIdFor, hasFileName } from '../ids.ts';
import type { Logger } from '../logger.ts';
import { parseFile } from '../parsers/index.ts';
import { duplicateRecord } from '../pipeline/identity.ts';
import { contentSummary, generateTrackId } from '../pipeline/ingest.ts';
import type { MessageSender } from '../queue/sender.ts';
import type { DocStatusRecord, StoredDocStatus } from '../storage/doc-status.ts';
import type { Storages } from '../storage/index.ts';
import { md5 } from '../text.ts';
import { type UploadedObject, uploadKey } from './objects.ts';
import { presignUpload, readUpload } from './s3.ts';

export interface UploadRequest {
  fileName: string;
  contentType?: string;
  trackId?: string;
  metadata?: Record<string, unknown>;
}

export interface UploadTicket {
  /** `pending`: PUT the file to `upload.url`; `duplicated`: a document of that name exists. */
  status: 'pending' | 'duplicated';
  docId: string;
  trackId: string;
  fileName: string;
  upload?: {
    method: 'PUT';
    url: string;
    headers: Record<string, string>;
    expiresAt: string;
    key: string;
  };
  message?: string;
}

export interface ParseOutcome {
  docId: string;
  workspace: string;
  status: 'analyzing' | 'failed' | 'skipped';
  reason?: string;
}

/** Statuses in which a document may (again) receive its file. */
const AWAITING_FILE = new Set(['pending', 'failed']);

export class UploadService {
  readonly #db: Database;
  readonly #config: Config;
  readonly #sender: MessageSender | undefined;
  readonly #log: Logger;

  constructor(db: Database, config: Config, sender: MessageSender | undefined, logger: Logger) {
    this.#db = db;
    this.#config = config;
    this.#sender = sender;
    this.#log = logger;
  }

  /**
   * Records an upload and returns where to PUT the file.
   *
   * @example
   * ```ts
   * const ticket = await uploads.requestUpload(s, { fileName: 'report.pdf' });
   * await fetch(ticket.upload!.url, { method: 'PUT', body: bytes });
   * ```
   */
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
    const metadata = {
      ...(request.metadata ?? {}),
      upload: { bucket, key, requested_at: new Date().toISOString() },
    };
    await this.#db.withTransaction(async (tx) => {
      const t = s.in(tx);
      await t.fullDocs.upsert([
        { id: docId, content: '', file_path: fileName, meta: null, parse_format: 'pending_parse' },
      ]);
      await t.docStatus.upsert([
        {
          id: docId,
          status: 'pending',
          content_summary: '',
          content_length: 0,
          file_path: fileName,
          track_id: trackId,
          metadata,
          chunks_count: -1,
          chunks_list: [],
          error_msg: null,
          content_hash: null,
        },
      ]);
    });
    const signed = await presignUpload(this.#config.uploads, key, request.contentType);
    return {
      status: 'pending',
      docId,
      trackId,
      fileName,
      upload: { method: 'PUT', ...signed, key },
    };
  }

  /**
   * Parses an uploaded object and queues its document for ingest. Retryable failures (S3 or the
   * database out) throw unless `finalAttempt`; a bad file is `failed` with the reason.
   */
  async parseUpload(
    s: Storages,
    object: UploadedObject,
    options: { finalAttempt?: boolean } = {},
  ): Promise<ParseOutcome> {
    const { docId } = object;
    const base = { docId, workspace: s.workspace };
    const current = await s.docStatus.getById(docId);
    const expected = (current?.metadata.upload as { key?: string } | undefined)?.key;
    if (!current || expected !== object.key || !AWAITING_FILE.has(current.status)) {
      this.#log.warn('upload ignored: no document awaits this object', {
        ...base,
        key: object.key,
        status: current?.status ?? null,
      });
      return {
        ...base,
        status: 'skipped',
        reason: current ? `status ${current.status}` : 'unknown document',
      };
    }
    const started = new Date().toISOString();
    const row = (fields: Partial<DocStatusRecord> & Pick<DocStatusRecord, 'status'>) =>
      statusRow(current, fields);
    await s.docStatus.upsert([
      row({ status: 'parsing', metadata: { ...current.metadata, parse_start_time: started } }),
    ]);
    try {
      const bytes = await readUpload(this.#config.uploads, object.bucket, object.key);
      const parsed = await parseFile(bytes, object.fileName, {
        maxFileBytes: this.#config.uploads.maxFileBytes,
        maxInflatedBytes: this.#config.uploads.maxInflatedBytes,
        maxPdfPages: this.#config.uploads.maxPdfPages,
        maxTextBytes: this.#config.ingest.maxDocumentBytes,
      });
      const hash = md5(parsed.text);
      const parseMeta = {
        ...current.metadata,
        parse_start_time: started,
        parse_end_time: new Date().toISOString(),
        parse_engine: parsed.engine,
        file_type: parsed.kind,
        file_bytes: bytes.length,
        ...(parsed.pages !== undefined ? { pages: parsed.pages } : {}),
      };
      const same = await s.docStatus.findIdentity(docId, null, hash);
      if (same.other) {
        // Same content under another name: LightRAG fails the upload's own row, drops its text.
        const dup = duplicateRecord(
          {
            docId,
            filePath: current.file_path,
            existing: current,
            duplicate: { kind: 'content_hash', original: same.other },
          },
          parsed.text,
          current.track_id ?? generateTrackId('upload'),
        );
        await this.#db.withTransaction(async (tx) => {
          const t = s.in(tx);
          await t.fullDocs.delete([docId]);
          await t.docStatus.upsert([
            row({
              status: 'failed',
              error_msg: dup.error_msg,
              metadata: { ...parseMeta, ...dup.metadata },
            }),
          ]);
        });
        return { ...base, status: 'failed', reason: dup.error_msg ?? 'duplicate' };
      }
      const queueUrl = this.#config.queue.queueUrl;
      if (!queueUrl || !this.#sender) throw new QueueNotConfiguredError();
      await this.#db.withTransaction(async (tx) => {
        await lockDocument(tx, s.workspace, docId);
        const t = s.in(tx);
        await t.fullDocs.upsert([
          {
            id: docId,
            content: parsed.text,
            file_path: current.file_path,
            meta: null,
            parse_engine: parsed.engine,
          },
        ]);
        await t.docStatus.upsert([
          row({
            status: 'analyzing',
            content_summary: contentSummary(parsed.text),
            content_length: [...parsed.text].length,
            content_hash: hash,
            metadata: { ...parseMeta, analyzing_stage_skipped: true },
          }),
        ]);
      });
      await this.#sender.send(queueUrl, [JSON.stringify({ docId, workspace: s.workspace })]);
      return { ...base, status: 'analyzing' };
    } catch (err) {
      const final = err instanceof FileRejectedError || !isRetryable(err) || options.finalAttempt;
      if (!final) {
        await s.docStatus
          .upsert([row({ status: 'pending', metadata: current.metadata })])
          .catch(() => undefined);
        throw err;
      }
      const reason = err instanceof Error ? err.message : String(err);
      await s.docStatus.upsert([
        row({
          status: 'failed',
          error_msg: reason,
          metadata: {
            ...current.metadata,
            error_type: 'file_extraction_error',
            ...(err instanceof FileRejectedError ? { file_rejection: err.reason } : {}),
            parse_start_time: started,
            parse_end_time: new Date().toISOString(),
          },
        }),
      ]);
      this.#log.warn('upload failed', { ...base, key: object.key, reason });
      return { ...base, status: 'failed', reason };
    }
  }
}

function isOwnUpload(row: StoredDocStatus): boolean {
  return AWAITING_FILE.has(row.status) && row.metadata.upload !== undefined;
}

function statusRow(
  current: StoredDocStatus,
  fields: Partial<DocStatusRecord> & Pick<DocStatusRecord, 'status'>,
): DocStatusRecord {
  const { created_at: _c, updated_at: _u, ...rest } = current;
  return { ...rest, error_msg: null, ...fields };
}
