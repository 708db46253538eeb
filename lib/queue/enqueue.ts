/**
 * The enqueue client: documents onto the ingest queue with `SendMessageBatch` (at most 10
 * entries and the queue's byte limit per call), failed entries retried with backoff, one result
 * per document. A document too large for a message is stored first (DOC_FULL, status
 * `pending`) and only its id is sent.
 */
import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { isRetryable, LightRagError, ValidationError } from '../errors.ts';
import { documentIdFor, generateTrackId, type IdRules } from '../ids.ts';
import type { IngestPipeline } from '../pipeline/ingest.ts';
import { withRetry } from '../retry.ts';
import {
  encodeDocumentReference,
  encodeIngestMessage,
  type IngestMessage,
  messageSize,
} from './messages.ts';

/** SQS allows at most 10 entries per SendMessageBatch. */
export const MAX_BATCH_ENTRIES = 10;

/** A document to enqueue: its text, and optionally its file path, workspace and caller metadata. */
export interface EnqueueDocument {
  content: string;
  filePath?: string;
  workspace?: string;
  metadata?: Record<string, unknown>;
}

/** What became of one document: queued (with its message id), a duplicate, or failed with the reason. */
export interface EnqueueResult {
  index: number;
  /** `queued`: on the queue; `duplicate`: already processed, not sent; `failed`: see `error`. */
  status: 'queued' | 'duplicate' | 'failed';
  docId?: string;
  messageId?: string;
  /** Sent as a reference (`docId`) because the document exceeds the message size. */
  byReference: boolean;
  error?: string;
}

/** The queue, its limits, and the pipeline that stores a document too large for a message. */
export interface EnqueueClientOptions {
  /** A client, or a function making one on first send (the SDK loads only when needed). */
  sqs: SQSClient | (() => Promise<SQSClient>);
  queueUrl: string;
  /** The queue's `MaximumMessageSize` (also the limit for one batch call). */
  maxMessageBytes: number;
  maxDocumentBytes: number;
  /** Stores documents that do not fit a message; without it they fail with a clear error. */
  pipeline?: IngestPipeline;
  maxRetries?: number;
  baseDelayMs?: number;
  /** The id rules the ingest function applies (`LIGHTRAG_ID_RULES`), to report each document's id. */
  idRules?: IdRules;
}

interface Pending {
  index: number;
  body: string;
  bytes: number;
  docId: string;
  byReference: boolean;
}

export class IngestQueueClient {
  readonly #options: EnqueueClientOptions;
  #sqs: Promise<SQSClient> | undefined;

  constructor(options: EnqueueClientOptions) {
    this.#options = options;
  }

  #client(): Promise<SQSClient> {
    const { sqs } = this.#options;
    this.#sqs ??= typeof sqs === 'function' ? sqs() : Promise.resolve(sqs);
    return this.#sqs;
  }

  /**
   * Enqueues documents; never throws for one bad document (its result says why).
   *
   * @example
   * ```ts
   * const results = await client.enqueue([{ content: 'text', filePath: 'a.md' }]);
   * ```
   */
  async enqueue(
    documents: readonly EnqueueDocument[],
    options: { trackId?: string; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<EnqueueResult[]> {
    const trackId = options.trackId ?? generateTrackId('enqueue');
    const results: EnqueueResult[] = [];
    const pending: Pending[] = [];
    for (const [index, doc] of documents.entries()) {
      try {
        const prepared = await this.#prepare(doc, index, trackId);
        if ('status' in prepared) results[index] = prepared;
        else pending.push(prepared);
      } catch (err) {
        results[index] = {
          index,
          status: 'failed',
          byReference: false,
          error: (err as Error).message,
        };
      }
    }
    let done = results.filter(Boolean).length;
    options.onProgress?.(done, documents.length);
    for (const batch of this.#pack(pending)) {
      for (const result of await this.#send(batch)) results[result.index] = result;
      done += batch.length;
      options.onProgress?.(done, documents.length);
    }
    return results;
  }

  /**
   * Enqueues documents already stored (status `pending`) by reference; one result per
   * reference, in order.
   */
  async enqueueReferences(
    references: ReadonlyArray<{
      docId: string;
      workspace?: string;
      filePath?: string | null;
      trackId: string;
    }>,
  ): Promise<EnqueueResult[]> {
    const pending = references.map((ref, index) => referenceMessage(ref, index));
    const results: EnqueueResult[] = [];
    for (const batch of this.#pack(pending)) {
      for (const result of await this.#send(batch)) results[result.index] = result;
    }
    return results;
  }

  async #prepare(
    doc: EnqueueDocument,
    index: number,
    trackId: string,
  ): Promise<Pending | EnqueueResult> {
    const message: IngestMessage = {
      content: doc.content,
      ...(doc.workspace ? { workspace: doc.workspace } : {}),
      ...(doc.filePath ? { filePath: doc.filePath } : {}),
      trackId,
      ...(doc.metadata ? { metadata: doc.metadata } : {}),
    };
    const body = encodeIngestMessage(message, {
      maxDocumentBytes: this.#options.maxDocumentBytes,
    });
    const docId = documentIdFor(doc.content, doc.filePath, this.#options.idRules ?? '1.5');
    const { bytes, fits } = messageSize(body, this.#options.maxMessageBytes);
    if (fits) return { index, body, bytes, docId, byReference: false };
    if (!this.#options.pipeline) {
      throw new ValidationError(
        `Document is ${bytes} bytes as a message, over the queue's ${this.#options.maxMessageBytes}-byte limit, ` +
          'and no database is configured to store it first.',
      );
    }
    const stored = await this.#options.pipeline.store({ ...doc, content: doc.content, trackId });
    if (stored.duplicate)
      return { index, status: 'duplicate', docId: stored.docId, byReference: true };
    return referenceMessage(
      { docId: stored.docId, workspace: doc.workspace, filePath: doc.filePath, trackId },
      index,
    );
  }

  /** Groups messages into calls of at most 10 entries and the byte limit. */
  #pack(pending: Pending[]): Pending[][] {
    const batches: Pending[][] = [];
    let current: Pending[] = [];
    let bytes = 0;
    for (const item of pending) {
      if (
        current.length === MAX_BATCH_ENTRIES ||
        (current.length > 0 && bytes + item.bytes > this.#options.maxMessageBytes)
      ) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += item.bytes;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }

  /** Sends one batch; entries that fail with a server fault are retried with backoff. */
  async #send(batch: Pending[]): Promise<EnqueueResult[]> {
    const results = new Map<number, EnqueueResult>();
    let remaining = batch;
    try {
      await withRetry(
        async () => {
          const entries: SendMessageBatchRequestEntry[] = remaining.map((p) => ({
            Id: String(p.index),
            MessageBody: p.body,
          }));
          const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
          const sqs = await this.#client();
          const response = await sqs.send(
            new SendMessageBatchCommand({ QueueUrl: this.#options.queueUrl, Entries: entries }),
          );
          for (const ok of response.Successful ?? []) {
            const item = remaining.find((p) => String(p.index) === ok.Id)!;
            results.set(item.index, {
              index: item.index,
              status: 'queued',
              docId: item.docId,
              messageId: ok.MessageId,
              byReference: item.byReference,
            });
          }
          const retry: Pending[] = [];
          for (const failed of response.Failed ?? []) {
            const item = remaining.find((p) => String(p.index) === failed.Id)!;
            if (failed.SenderFault) {
              results.set(item.index, {
                index: item.index,
                status: 'failed',
                docId: item.docId,
                byReference: item.byReference,
                error: `${failed.Code}: ${failed.Message ?? ''}`,
              });
            } else retry.push(item);
          }
          remaining = retry;
          if (retry.length > 0) throw new EntriesFailed(retry.length);
        },
        {
          maxRetries: this.#options.maxRetries ?? 5,
          baseDelayMs: this.#options.baseDelayMs ?? 200,
          isRetryable: (err) => err instanceof EntriesFailed || isSqsRetryable(err),
        },
      );
    } catch (err) {
      for (const item of remaining) {
        results.set(item.index, {
          index: item.index,
          status: 'failed',
          docId: item.docId,
          byReference: item.byReference,
          error: (err as Error).message,
        });
      }
    }
    return batch.map((p) => results.get(p.index)!);
  }
}

/** The message for a stored document: its id instead of its content. */
function referenceMessage(
  ref: { docId: string; workspace?: string; filePath?: string | null; trackId: string },
  index: number,
): Pending {
  const body = encodeDocumentReference(ref);
  return { index, body, bytes: messageSize(body).bytes, docId: ref.docId, byReference: true };
}

class EntriesFailed extends LightRagError {
  constructor(count: number) {
    super('SQS_ENTRIES_FAILED', `${count} message(s) were not accepted by SQS after retries.`);
  }
}

function isSqsRetryable(err: unknown): boolean {
  const e = err as { $fault?: string; $retryable?: unknown; name?: string };
  if (e?.$fault === 'server' || e?.$retryable) return true;
  if (e?.$fault === 'client') return /Throttl|RequestThrottled|KmsThrottled/.test(e.name ?? '');
  return isRetryable(err);
}
