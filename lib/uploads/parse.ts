/**
 * Documents as files, second half (the parse function): when S3 reports an upload, read it,
 * turn it into text (lib/parsers) and hand the document to the ingest queue: `pending` →
 * `parsing` → `analyzing` → (ingest) `processing` → `processed`, as LightRAG 1.5 moves an
 * upload. A file that cannot be parsed is `failed` with the reason and
 * `metadata.error_type: "file_extraction_error"`; nothing else changes.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { lockDocument } from '../db/locks.ts';
import { FileRejectedError, givesUp, giveUpReason, QueueNotConfiguredError } from '../errors.ts';
import { generateTrackId } from '../ids.ts';
import type { Logger } from '../logger.ts';
import { parseFileIsolated, parseLimits } from '../parsers/isolated.ts';
import { duplicateRecord } from '../pipeline/identity.ts';
import { isHeld } from '../pipeline/leases.ts';
import { encodeDocumentReference } from '../queue/messages.ts';
import type { MessageSender } from '../queue/sender.ts';
import type { Storages } from '../storage/index.ts';
import { contentFields, nextStatus } from '../storage/status-rows.ts';
import { md5 } from '../text.ts';
import type { UploadedObject } from './objects.ts';
import { AWAITING_FILE } from './request.ts';
import { readUpload } from './s3.ts';

export interface ParseOutcome {
  docId: string;
  workspace: string;
  status: 'analyzing' | 'failed' | 'skipped';
  reason?: string;
}

export class UploadParser {
  readonly #db: Database;
  readonly #config: Config;
  readonly #sender: MessageSender;
  readonly #log: Logger;

  constructor(db: Database, config: Config, sender: MessageSender, logger: Logger) {
    this.#db = db;
    this.#config = config;
    this.#sender = sender;
    this.#log = logger;
  }

  /**
   * Parses an uploaded object and queues its document for ingest. Retryable failures (S3 or the
   * database out) throw unless `finalAttempt`; a bad file is `failed` with the reason.
   */
  async parseUpload(
    s: Storages,
    object: UploadedObject,
    options: { finalAttempt?: boolean; messageId?: string } = {},
  ): Promise<ParseOutcome> {
    const { docId } = object;
    const base = { docId, workspace: s.workspace };
    if (object.bucket !== this.#config.uploads.bucket) {
      // Only the configured bucket is read: an event naming another is forged or misrouted.
      this.#log.warn('upload ignored: not the uploads bucket', { ...base, bucket: object.bucket });
      return { ...base, status: 'skipped', reason: `bucket ${object.bucket} is not UPLOAD_BUCKET` };
    }
    const current = await s.docStatus.getById(docId);
    const expected = (current?.metadata.upload as { key?: string } | undefined)?.key;
    // A parse cut off (the function killed) is taken over by the message that started it (SQS
    // delivering it again) or, once the worker's lease ran out, by any message: a DLQ redrive
    // gives the message a new id. A second event for the object while it parses is ignored.
    const resumed =
      current?.status === 'parsing' &&
      ((options.messageId !== undefined &&
        current.metadata.parse_message_id === options.messageId) ||
        !isHeld(current, this.#config.ingest.workLeaseSeconds));
    if (!current || expected !== object.key || !(AWAITING_FILE.has(current.status) || resumed)) {
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
    const claim = options.messageId ? { parse_message_id: options.messageId } : {};
    await s.docStatus.upsert([
      nextStatus(current, {
        status: 'parsing',
        metadata: { ...current.metadata, ...claim, parse_start_time: started },
      }),
    ]);
    try {
      const bytes = await readUpload(this.#config.uploads, object.bucket, object.key);
      // In a worker thread with a heap limit and a deadline: no file can exhaust this function.
      const parsed = await parseFileIsolated(bytes, object.fileName, parseLimits(this.#config));
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
            nextStatus(current, {
              status: 'failed',
              error_msg: dup.error_msg,
              metadata: { ...parseMeta, ...dup.metadata },
            }),
          ]);
        });
        return { ...base, status: 'failed', reason: dup.error_msg ?? 'duplicate' };
      }
      const queueUrl = this.#config.queue.queueUrl;
      if (!queueUrl) throw new QueueNotConfiguredError();
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
          nextStatus(current, {
            status: 'analyzing',
            ...contentFields(parsed.text),
            metadata: { ...parseMeta, analyzing_stage_skipped: true },
          }),
        ]);
      });
      await this.#sender.send(queueUrl, [
        encodeDocumentReference({ docId, workspace: s.workspace }),
      ]);
      return { ...base, status: 'analyzing' };
    } catch (err) {
      // The one failure policy (lib/errors.ts givesUp); a rejected file is never retried.
      const final = err instanceof FileRejectedError || givesUp(err, options.finalAttempt);
      if (!final) {
        await s.docStatus
          .upsert([nextStatus(current, { status: 'pending', metadata: current.metadata })])
          .catch(() => undefined);
        throw err;
      }
      const reason = giveUpReason(err);
      await s.docStatus.upsert([
        nextStatus(current, {
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
