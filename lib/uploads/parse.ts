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
import type { StoredDocStatus } from '../storage/doc-status.ts';
import type { Storages } from '../storage/index.ts';
import { contentFields, nextStatus } from '../storage/status-rows.ts';
import { md5 } from '../text.ts';
import type { UploadedObject } from './objects.ts';
import { AWAITING_FILE } from './request.ts';
import { readUpload } from './s3.ts';

/** What became of one uploaded file. */
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
    const base = { docId: object.docId, workspace: s.workspace };
    const claimed = await this.#claim(s, object, options.messageId);
    if ('status' in claimed) return claimed;
    const { current, started } = claimed;
    try {
      const bytes = await readUpload(this.#config.uploads, object.bucket, object.key);
      // In a worker thread with a heap limit and a deadline: no file can exhaust this function.
      const parsed = await parseFileIsolated(bytes, object.fileName, parseLimits(this.#config));
      const parseMeta = {
        ...current.metadata,
        parse_start_time: started,
        parse_end_time: new Date().toISOString(),
        parse_engine: parsed.engine,
        file_type: parsed.kind,
        file_bytes: bytes.length,
        ...(parsed.pages !== undefined ? { pages: parsed.pages } : {}),
      };
      const same = await s.docStatus.findIdentity(object.docId, null, md5(parsed.text));
      if (same.other) {
        const reason = await this.#failAsDuplicate(s, current, parsed.text, parseMeta, same.other);
        return { ...base, status: 'failed', reason };
      }
      await this.#handOver(s, current, parsed, parseMeta);
      return { ...base, status: 'analyzing' };
    } catch (err) {
      const reason = await this.#failed(s, current, err, started, options.finalAttempt);
      this.#log.warn('upload failed', { ...base, key: object.key, reason });
      return { ...base, status: 'failed', reason };
    }
  }

  /**
   * Takes the document for parsing (status `parsing`, this message's id, the start time), or
   * says why this event is not for it: another bucket, no document awaiting this object, or a
   * parse another worker still holds. A parse cut off (the function killed) is taken over by the
   * message that started it (SQS delivering it again) or, once the worker's lease ran out, by
   * any message: a DLQ redrive gives the message a new id.
   */
  async #claim(
    s: Storages,
    object: UploadedObject,
    messageId: string | undefined,
  ): Promise<{ current: StoredDocStatus; started: string } | ParseOutcome> {
    const base = { docId: object.docId, workspace: s.workspace };
    if (object.bucket !== this.#config.uploads.bucket) {
      // Only the configured bucket is read: an event naming another is forged or misrouted.
      this.#log.warn('upload ignored: not the uploads bucket', { ...base, bucket: object.bucket });
      return { ...base, status: 'skipped', reason: `bucket ${object.bucket} is not UPLOAD_BUCKET` };
    }
    const current = await s.docStatus.getById(object.docId);
    const expected = (current?.metadata.upload as { key?: string } | undefined)?.key;
    const resumed =
      current?.status === 'parsing' &&
      ((messageId !== undefined && current.metadata.parse_message_id === messageId) ||
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
    const claim = messageId ? { parse_message_id: messageId } : {};
    await s.docStatus.upsert([
      nextStatus(current, {
        status: 'parsing',
        metadata: { ...current.metadata, ...claim, parse_start_time: started },
      }),
    ]);
    return { current, started };
  }

  /** Same content under another name: LightRAG fails the upload's own row and drops its text. */
  async #failAsDuplicate(
    s: Storages,
    current: StoredDocStatus,
    text: string,
    parseMeta: Record<string, unknown>,
    original: StoredDocStatus,
  ): Promise<string> {
    const dup = duplicateRecord(
      {
        docId: current.id,
        filePath: current.file_path,
        existing: current,
        duplicate: { kind: 'content_hash', original },
      },
      text,
      current.track_id ?? generateTrackId('upload'),
    );
    await this.#db.withTransaction(async (tx) => {
      const t = s.in(tx);
      await t.fullDocs.delete([current.id]);
      await t.docStatus.upsert([
        nextStatus(current, {
          status: 'failed',
          error_msg: dup.error_msg,
          metadata: { ...parseMeta, ...dup.metadata },
        }),
      ]);
    });
    return dup.error_msg ?? 'duplicate';
  }

  /** The text stored, the status `analyzing`, and the document sent to the ingest queue by id. */
  async #handOver(
    s: Storages,
    current: StoredDocStatus,
    parsed: { text: string; engine: string },
    parseMeta: Record<string, unknown>,
  ): Promise<void> {
    const queueUrl = this.#config.queue.queueUrl;
    if (!queueUrl) throw new QueueNotConfiguredError();
    await this.#db.withTransaction(async (tx) => {
      await lockDocument(tx, s.workspace, current.id);
      const t = s.in(tx);
      await t.fullDocs.upsert([
        {
          id: current.id,
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
      encodeDocumentReference({ docId: current.id, workspace: s.workspace }),
    ]);
  }

  /**
   * The one failure policy (lib/errors.ts givesUp): a rejected file is failed at once, anything
   * else goes back to `pending` and is thrown (the message comes back) until the final attempt.
   */
  async #failed(
    s: Storages,
    current: StoredDocStatus,
    err: unknown,
    started: string,
    finalAttempt: boolean | undefined,
  ): Promise<string> {
    const final = err instanceof FileRejectedError || givesUp(err, finalAttempt);
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
    return reason;
  }
}
