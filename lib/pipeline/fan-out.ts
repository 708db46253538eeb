/**
 * A large document's extraction, fanned out across containers. The ingest message chunks the
 * document, writes its chunks and a run (one row per batch of EXTRACTION_BATCH_CHUNKS chunks),
 * and sends one message per batch to the extraction queue. Each batch message extracts its
 * chunks into the LLM cache (keyed per chunk) and settles its row once; the completion that
 * finds every batch extracted queues one merge message on the ingest queue, and the merge (the
 * ordinary pipeline, every extraction now a cache hit) is claimed by exactly one message.
 *
 * ```json
 * { "docId": "doc-…", "workspace": "default", "runId": "run_…", "batch": 3 }
 * ```
 */

import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../concurrency.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { lockDocument } from '../db/locks.ts';
import { givesUp, giveUpReason, ValidationError } from '../errors.ts';
import type { GraphExtractor } from '../graph/extract.ts';
import { errorFields, type Logger } from '../logger.ts';
import {
  type ExtractionMessage,
  encodeExtractionMessage,
  encodeMergeMessage,
} from '../queue/messages.ts';
import type { MessageSender } from '../queue/sender.ts';
import type { DocStatusRecord } from '../storage/doc-status.ts';
import type { RunProgress } from '../storage/extraction-runs.ts';
import type { Storages } from '../storage/index.ts';
import { nextStatus } from '../storage/status-rows.ts';
import { PipelineLog } from './status.ts';

/** Progress shown on the document's status (`metadata.extraction`). */
export function progressMetadata(runId: string, p: RunProgress) {
  return {
    run_id: runId,
    chunks_total: p.chunks,
    chunks_extracted: p.chunksExtracted,
    batches_total: p.batches,
    batches_extracted: p.batchesExtracted,
    batches_failed: p.batchesFailed,
  };
}

/** What became of one chunk batch of a fanned-out document. */
export interface BatchOutcome {
  docId: string;
  workspace: string;
  batch: number;
  /** `stale`: the message belongs to a run since replaced (or a deleted document). */
  outcome: 'extracted' | 'failed' | 'already-settled' | 'stale';
  /** Whether this completion queued the merge. */
  mergeQueued: boolean;
  error?: string;
}

/** A document to fan out: its chunks, and how to write its status. */
export interface FanOutStart {
  docId: string;
  chunks: ReadonlyArray<{ id: string; content: string; tokens: number; chunk_order_index: number }>;
  filePath: string | null;
  /** The document's status row as the pipeline writes it, with these fields. */
  status: (fields: Pick<DocStatusRecord, 'status'> & Partial<DocStatusRecord>) => DocStatusRecord;
}

export class ExtractionFanOut {
  readonly #db: Database;
  readonly #config: Config;
  readonly #extractor: GraphExtractor;
  readonly #sender: MessageSender;
  readonly #log: Logger;
  readonly #pipelineLog: PipelineLog;
  readonly #queues: { extraction: string; ingest: string };

  constructor(
    db: Database,
    config: Config,
    extractor: GraphExtractor,
    sender: MessageSender,
    logger: Logger,
  ) {
    this.#db = db;
    this.#config = config;
    this.#extractor = extractor;
    this.#sender = sender;
    this.#log = logger;
    this.#pipelineLog = new PipelineLog(db, logger);
    const { extractionQueueUrl, queueUrl } = config.queue;
    if (!extractionQueueUrl || !queueUrl) throw new TypeError('fan-out needs both queues');
    this.#queues = { extraction: extractionQueueUrl, ingest: queueUrl };
  }

  /** Whether a document of `chunks` chunks is fanned out. */
  applies(chunks: number): boolean {
    return chunks >= this.#config.ingest.fanOutMinChunks;
  }

  /**
   * Writes the chunks, the run and the `processing` status with progress in one transaction,
   * then sends the batch messages. A failed send throws (retryable): the ingest message comes
   * back and starts a new run, whose id makes the old run's messages stale.
   */
  async start(s: Storages, doc: FanOutStart): Promise<{ runId: string; batches: number }> {
    const size = this.#config.ingest.extractionBatchChunks;
    const batches: string[][] = [];
    for (let i = 0; i < doc.chunks.length; i += size) {
      batches.push(doc.chunks.slice(i, i + size).map((c) => c.id));
    }
    const runId = `run_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
    await this.#db.withTransaction(async (tx) => {
      await lockDocument(tx, s.workspace, doc.docId);
      const t = s.in(tx);
      await t.textChunks.deleteByDocId(doc.docId);
      await t.textChunks.upsert(
        doc.chunks.map((c) => ({ ...c, full_doc_id: doc.docId, file_path: doc.filePath })),
      );
      await t.extractionRuns.start(doc.docId, runId, batches);
      const progress = progressMetadata(runId, {
        batches: batches.length,
        chunks: doc.chunks.length,
        batchesExtracted: 0,
        batchesFailed: 0,
        chunksExtracted: 0,
      });
      const row = doc.status({
        status: 'processing',
        chunks_count: doc.chunks.length,
        chunks_list: doc.chunks.map((c) => c.id),
      });
      await t.docStatus.upsert([{ ...row, metadata: { ...row.metadata, extraction: progress } }]);
    });
    await this.#sender.send(
      this.#queues.extraction,
      batches.map((_, batch) =>
        encodeExtractionMessage({ docId: doc.docId, workspace: s.workspace, runId, batch }),
      ),
    );
    this.#log.info('document fanned out', {
      docId: doc.docId,
      workspace: s.workspace,
      runId,
      batches: batches.length,
      chunks: doc.chunks.length,
    });
    return { runId, batches: batches.length };
  }

  /**
   * Extracts one batch (LLM calls outside any transaction, replies cached per chunk), settles it
   * and, when it was the last, queues the merge. A retryable failure before the last delivery
   * throws (the message comes back and resumes from the cache); otherwise the batch and its
   * document are marked failed with the reason.
   */
  async extractBatch(
    s: Storages,
    message: ExtractionMessage,
    options: { finalAttempt?: boolean; submittedAt?: number } = {},
  ): Promise<BatchOutcome> {
    const { docId, runId, batch } = message;
    const base = { docId, workspace: s.workspace, batch, mergeQueued: false };
    const run = await s.extractionRuns.getRun(docId);
    const row = run?.runId === runId ? await s.extractionRuns.getBatch(docId, runId, batch) : null;
    if (!run || !row) return { ...base, outcome: 'stale' };
    if (row.status !== 'sent') {
      // Counted already; a merge whose message could not be sent is queued again from here.
      const mergeQueued =
        row.status === 'extracted' && (await this.#queueMergeIfDone(s, docId, runId));
      return { ...base, outcome: 'already-settled', mergeQueued };
    }
    const doc = await s.docStatus.getById(docId);
    if (doc?.status !== 'processing') {
      // Another batch failed the document (or it was reprocessed): spend no LLM calls on it.
      const error = `Skipped: the document is ${doc?.status ?? 'gone'}.`;
      await this.#settle(s, docId, runId, batch, 'failed', error);
      return { ...base, outcome: 'failed', error };
    }
    try {
      // A cancelled workspace spends no more LLM calls on documents submitted before it.
      await this.#pipelineLog.stopIfCancelled(
        s.workspace,
        options.submittedAt ?? (doc.created_at ? Date.parse(doc.created_at) + 999 : Date.now()),
      );
      const chunks = await s.textChunks.getByIds(row.chunkIds);
      const missing = row.chunkIds.filter((_, i) => !chunks[i]);
      if (missing.length > 0) {
        throw new ValidationError(`Chunks ${missing.slice(0, 3).join(', ')} of the run are gone.`);
      }
      await mapWithConcurrency(chunks, this.#config.graph.extractionConcurrency, (chunk) =>
        this.#extractor.extract(s.llmCache, {
          id: chunk!.id,
          content: chunk!.content,
          file_path: chunk!.file_path ?? null,
        }),
      );
    } catch (err) {
      // The one failure policy (lib/errors.ts givesUp): the batch and its document failed.
      if (!givesUp(err, options.finalAttempt)) throw err;
      const error = `Extraction of batch ${batch + 1} of ${run.batches} failed: ${giveUpReason(err)}`;
      await this.#settle(s, docId, runId, batch, 'failed', error);
      this.#log.warn('extraction batch failed', { docId, runId, batch, ...errorFields(err) });
      return { ...base, outcome: 'failed', error };
    }
    const progress = await this.#settle(s, docId, runId, batch, 'extracted');
    await this.#pipelineLog.note(
      s.workspace,
      `${doc.file_path ?? docId}: extraction batch ${batch + 1} of ${run.batches} done`,
    );
    const mergeQueued = await this.#queueMergeIfDone(s, docId, runId, progress);
    return { ...base, outcome: 'extracted', mergeQueued };
  }

  /**
   * Settles a batch and updates the document's progress (and fails it on a failed batch).
   * Returns the run's progress as this settlement left it (read under the document lock), or
   * undefined when another delivery had settled the batch.
   */
  async #settle(
    s: Storages,
    docId: string,
    runId: string,
    batch: number,
    status: 'extracted' | 'failed',
    error?: string,
  ): Promise<RunProgress | undefined> {
    return this.#db.withTransaction(async (tx) => {
      await lockDocument(tx, s.workspace, docId);
      const t = s.in(tx);
      if (!(await t.extractionRuns.settleBatch(docId, runId, batch, status, error ?? null))) {
        return undefined;
      }
      const run = await t.extractionRuns.progress(docId, runId);
      const progress = progressMetadata(runId, run);
      if (status === 'extracted') {
        await t.docStatus.setMetadataKey(docId, 'extraction', progress);
        return run;
      }
      const current = await t.docStatus.getById(docId);
      if (!current || current.status !== 'processing') return run;
      await t.docStatus.upsert([
        nextStatus(current, {
          status: 'failed',
          error_msg: error ?? null,
          metadata: { ...current.metadata, extraction: progress },
        }),
      ]);
      return run;
    });
  }

  /**
   * When every batch of the run is extracted and no merge was queued yet, moves the run to
   * `queued` (one caller wins) and sends the merge message; a failed send moves it back and
   * throws, so this batch's message comes back and tries again.
   */
  async #queueMergeIfDone(
    s: Storages,
    docId: string,
    runId: string,
    known?: RunProgress,
  ): Promise<boolean> {
    const progress = known ?? (await s.extractionRuns.progress(docId, runId));
    if (progress.batchesExtracted < progress.batches) return false;
    if (!(await s.extractionRuns.moveMerge(docId, runId, ['waiting'], 'queued'))) return false;
    try {
      await this.#sender.send(this.#queues.ingest, [
        encodeMergeMessage({ docId, workspace: s.workspace, runId }),
      ]);
    } catch (err) {
      await s.extractionRuns.moveMerge(docId, runId, ['queued'], 'waiting');
      throw err;
    }
    this.#log.info('extraction complete; merge queued', { docId, workspace: s.workspace, runId });
    return true;
  }
}
