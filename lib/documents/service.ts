/**
 * The documents use cases: submit (store as `pending`, then enqueue by id), read, list, count,
 * delete and reprocess. Bodies are parsed before (lib/documents/requests.ts); failures are
 * domain errors that lib/http maps to statuses.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { lockDocument } from '../db/locks.ts';
import {
  DocumentBusyError,
  DocumentNotFoundError,
  DocumentNotReprocessableError,
  QueueNotConfiguredError,
  ValidationError,
} from '../errors.ts';
import { applyPlan } from '../graph/apply-plan.ts';
import { applyRemoval, planRemoval } from '../graph/rebuild.ts';
import { generateTrackId } from '../ids.ts';
import { errorFields, type Logger } from '../logger.ts';
import { type DuplicateKind, notReprocessable } from '../pipeline/identity.ts';
import type { IngestPipeline } from '../pipeline/ingest.ts';
import {
  isHeld,
  isStuck,
  type LeasedDocument,
  leaseEnds,
  WORKING_STATUSES,
} from '../pipeline/leases.ts';
import type { EnqueueResult, IngestQueueClient } from '../queue/enqueue.ts';
import { encodeS3ObjectCreated, validateIngestMessage } from '../queue/messages.ts';
import { type MessageSender, SqsMessageSender } from '../queue/sender.ts';
import type { DocStatus, PageRequest, StoredDocStatus } from '../storage/doc-status.ts';
import { nextStatus } from '../storage/status-rows.ts';

/** What became of one document of a submit or reprocess request. */
export interface SubmittedDocument {
  docId?: string;
  /** `skipped`: a failed document reprocessing cannot help (a duplicate marker, an unreadable file). */
  status: 'queued' | 'duplicate' | 'failed' | 'skipped';
  /** For a duplicate under LightRAG 1.5 rules: `filename` or `content_hash` (the original is `docId`). */
  duplicateKind?: DuplicateKind;
  error?: string;
}

export class DocumentService {
  readonly #db: Database;
  readonly #config: Config;
  readonly #pipeline: IngestPipeline;
  readonly #queue: IngestQueueClient | undefined;
  readonly #log: Logger | undefined;
  #uploadsSender: MessageSender | undefined;

  constructor(
    db: Database,
    config: Config,
    pipeline: IngestPipeline,
    queue: IngestQueueClient | undefined,
    logger?: Logger,
  ) {
    this.#db = db;
    this.#config = config;
    this.#pipeline = pipeline;
    this.#queue = queue;
    this.#log = logger;
  }

  /**
   * Stores each document (see {@link parseSubmitRequest}) with status `pending`, then sends its
   * id to the ingest queue. An invalid item fails alone; all invalid is a ValidationError.
   */
  async submit(
    items: readonly Record<string, unknown>[],
    workspace: string,
  ): Promise<{ trackId: string; documents: SubmittedDocument[] }> {
    const queue = this.#requireQueue();
    const trackId = generateTrackId('insert');
    const documents: SubmittedDocument[] = [];
    const references: Array<{
      docId: string;
      workspace: string;
      filePath?: string;
      trackId: string;
      slot: number;
    }> = [];
    for (const item of items) {
      try {
        if (item.workspace !== undefined && item.workspace !== workspace) {
          throw new ValidationError(
            `A document names workspace ${JSON.stringify(item.workspace)} but the request is for "${workspace}"; send documents of one workspace per request.`,
            { field: 'workspace' },
          );
        }
        const message = validateIngestMessage({ ...item, workspace }, this.#config.ingest) as {
          content: string;
          filePath?: string;
          metadata?: Record<string, unknown>;
        };
        const stored = await this.#pipeline.store({ ...message, workspace, trackId });
        if (stored.duplicate)
          documents.push({
            docId: stored.docId,
            status: 'duplicate',
            ...(stored.duplicateKind ? { duplicateKind: stored.duplicateKind } : {}),
          });
        else {
          references.push({
            docId: stored.docId,
            workspace,
            filePath: message.filePath,
            trackId,
            slot: documents.length,
          });
          documents.push({ docId: stored.docId, status: 'queued' });
        }
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        documents.push({ status: 'failed', error: err.message });
      }
    }
    if (documents.every((d) => d.status === 'failed')) {
      // Nothing usable: a plain 400 says so better than a 202 of failures.
      throw new ValidationError(
        documents.length === 1 ? documents[0]!.error! : 'No document in the request is valid.',
        { documents: documents.map((d, index) => ({ index, error: d.error })) },
      );
    }
    const sent: EnqueueResult[] = references.length
      ? await queue.enqueueReferences(references)
      : [];
    const unsent = sent.filter((r) => r.status === 'failed');
    for (const [i, result] of sent.entries()) {
      if (result.status === 'failed')
        documents[references[i]!.slot] = {
          docId: result.docId,
          status: 'failed',
          error: NOT_ENQUEUED,
        };
    }
    if (unsent.length > 0) await this.#recordUnsent(workspace, unsent);
    return { trackId, documents };
  }

  async get(docId: string, workspace: string): Promise<StoredDocStatus> {
    const s = await this.#pipeline.storages(workspace);
    const status = await s.docStatus.getById(docId);
    if (!status) throw new DocumentNotFoundError(docId, workspace);
    return status;
  }

  async list(request: PageRequest, workspace: string) {
    const s = await this.#pipeline.storages(workspace);
    return s.docStatus.getDocsPaginated(request);
  }

  /** The `limit` most recently updated documents (pages of the list, newest first). */
  async newest(limit: number, workspace: string): Promise<StoredDocStatus[]> {
    const found: StoredDocStatus[] = [];
    for (let page = 1; found.length < limit; page++) {
      const batch = await this.list({ page, pageSize: 200 }, workspace);
      found.push(...batch.documents);
      if (batch.documents.length < 200) break;
    }
    return found.slice(0, limit);
  }

  /**
   * Deletes the workspace's LLM response cache (LightRAG's `clear_cache`): answers, keywords,
   * summaries and extractions are asked of the LLM again. A deletion then rebuilds shared graph
   * elements only from what is cached, as in LightRAG.
   */
  async clearCache(workspace: string): Promise<number> {
    const s = await this.#pipeline.storages(workspace);
    return s.llmCache.drop();
  }

  /** The documents a submit or upload was given `trackId` (LightRAG's track status). */
  async byTrackId(trackId: string, workspace: string): Promise<StoredDocStatus[]> {
    if (!trackId.trim() || trackId.length > 255)
      throw new ValidationError('The track id must be 1-255 characters.', { field: 'track_id' });
    const s = await this.#pipeline.storages(workspace);
    return s.docStatus.getDocsByTrackId(trackId);
  }

  async statusCounts(workspace: string): Promise<Record<DocStatus, number>> {
    const s = await this.#pipeline.storages(workspace);
    return s.docStatus.getStatusCounts();
  }

  /**
   * Deletes a document in one transaction: the entities and relations only it supported, then
   * (rebuilt from cached extractions, without LLM calls) those it shared, its chunks, chunk
   * vectors, anchors, status, full text and the cache entries made from its chunks. 404 when it
   * does not exist; a failure part-way changes nothing, so the call can simply be repeated.
   */
  async delete(docId: string, workspace: string, removal: { deleteLlmCache?: boolean } = {}) {
    const s = await this.#pipeline.storages(workspace);
    const merger = this.#pipeline.graphMerger;
    const options = { json: this.#config.graph.useJson };
    // Checked before planning (cheap refusals), and again under the document lock.
    refuseBusy(docId, await s.docStatus.getById(docId), this.#config.ingest.workLeaseSeconds);
    const plan = await planRemoval(s, docId, merger, options);
    const result = await applyPlan(this.#db, plan, {
      apply: async (tx, planned) => {
        await lockDocument(tx, s.workspace, docId);
        const t = s.in(tx);
        refuseBusy(
          docId,
          await t.docStatus.lockStatus(docId),
          this.#config.ingest.workLeaseSeconds,
        );
        const graph = await applyRemoval(tx, s, planned, merger);
        const status = await t.docStatus.delete([docId]);
        const full = await t.fullDocs.delete([docId]);
        await t.extractionRuns.deleteByDocId(docId);
        if (status === 0 && full === 0) throw new DocumentNotFoundError(docId, s.workspace);
        // The plan's chunk ids are current: applyRemoval re-checked them under the lock.
        // LightRAG's delete_llm_cache=false keeps the replies cached for its chunks.
        const cacheEntries =
          removal.deleteLlmCache === false
            ? 0
            : await t.llmCache.deleteByChunkIds(planned.chunkIds);
        const chunks = await t.textChunks.deleteByDocId(docId);
        const vectors = await t.chunksVdb.deleteByDocId(docId);
        const { due, ...counts } = graph;
        return { docId, deleted: { chunks, vectors, cacheEntries }, graph: counts, due };
      },
      // Only a change to the document itself (a re-ingest that won the lock) plans it again.
      replan: () => planRemoval(s, docId, merger, options),
    });
    const { due, ...removed } = result;
    // Rebuilt elements that another writer changed meanwhile get their vectors after the commit.
    if (due.length > 0) await this.#pipeline.graphUpkeep.refresh(s, due);
    return removed;
  }

  /**
   * Documents back to `pending` and onto their queue — only those a new run can bring through:
   * failed ones (not a duplicate marker, a record of an attempt, nor a file rejected for its
   * content), and stuck ones, whose worker's lease ran out (lib/pipeline/leases.ts). A file whose
   * parse was cut off is parsed again (its S3 event to UPLOADS_QUEUE_URL); the rest go to the
   * ingest queue. Named documents reprocessing cannot help are refused with
   * {@link DocumentNotReprocessableError} before anything is sent; with no ids they are reported
   * as skipped.
   */
  async reprocess(
    ids: readonly string[] | undefined,
    workspace: string,
  ): Promise<{ trackId: string; documents: SubmittedDocument[] }> {
    const queue = this.#requireQueue();
    const s = await this.#pipeline.storages(workspace);
    const lease = this.#config.ingest.workLeaseSeconds;
    const now = Date.now();
    // What a new run can bring through: failed for a reason it can fix, or stuck (lease over).
    const takeable = (d: StoredDocStatus) =>
      d.status === 'failed' ? !notReprocessable(d) : isStuck(d, lease, now) && !awaitsFile(d);
    const candidates =
      ids === undefined
        ? [
            ...(await s.docStatus.getDocsByStatus('failed')),
            ...(
              await Promise.all(
                REPROCESSABLE_WHEN_STUCK.map((status) => s.docStatus.getDocsByStatus(status)),
              )
            )
              .flat()
              .filter(takeable),
          ]
        : (await s.docStatus.getByIds(ids)).filter((d) => d !== null);
    const missing =
      ids === undefined ? [] : ids.filter((id) => !candidates.some((c) => c.id === id));
    const refused = candidates.flatMap((d) => {
      const reason = d.status === 'failed' ? notReprocessable(d) : undefined;
      return reason ? [{ docId: d.id, reason }] : [];
    });
    if (ids !== undefined && refused.length > 0) throw new DocumentNotReprocessableError(refused);
    const taken = candidates.filter(takeable);
    const left = candidates.filter((d) => !taken.includes(d) && !notReprocessable(d));
    const trackId = generateTrackId('reprocess');
    const reparse = taken.filter(needsParse);
    const ingest = taken.filter((d) => !needsParse(d));
    if (taken.length > 0) {
      // nextStatus: updated_at moves to now, so the new message holds a fresh lease.
      await s.docStatus.upsert(
        taken.map((d) =>
          nextStatus(d, {
            status: 'pending',
            metadata: withoutKeys(d.metadata, ['error_type', 'parse_message_id']),
            track_id: trackId,
          }),
        ),
      );
    }
    const sent = ingest.length
      ? await queue.enqueueReferences(
          ingest.map((d) => ({
            docId: d.id,
            workspace: s.workspace,
            filePath: d.file_path,
            trackId,
          })),
        )
      : [];
    const parsing = await this.#sendToParse(s.workspace, reparse);
    const unsent = [...sent, ...parsing].filter((r) => r.status !== 'queued');
    if (unsent.length > 0) await this.#recordUnsent(s.workspace, unsent);
    return {
      trackId,
      documents: [
        ...[...sent, ...parsing].map((r) => ({
          docId: r.docId,
          status: r.status === 'queued' ? ('queued' as const) : ('failed' as const),
          error: r.error,
        })),
        ...refused.map((r) => ({ docId: r.docId, status: 'skipped' as const, error: r.reason })),
        ...left.map((d) => ({
          docId: d.id,
          status: 'failed' as const,
          error: notTaken(d, lease),
        })),
        ...missing.map((id) => ({
          docId: id,
          status: 'failed' as const,
          error: 'no such document',
        })),
      ],
    };
  }

  /** Sends each upload's S3 event again, so the parse function reads its file once more. */
  async #sendToParse(
    workspace: string,
    docs: readonly StoredDocStatus[],
  ): Promise<Array<Pick<EnqueueResult, 'docId' | 'status' | 'error'>>> {
    if (docs.length === 0) return [];
    const { bucket } = this.#config.uploads;
    const queueUrl = this.#config.queue.uploadsQueueUrl;
    if (!bucket || !queueUrl) {
      return docs.map((d) => ({
        docId: d.id,
        status: 'failed' as const,
        error: 'Parsing a file again needs UPLOAD_BUCKET and UPLOADS_QUEUE_URL on this function.',
      }));
    }
    this.#uploadsSender ??= new SqsMessageSender(this.#config.queue);
    const sender = this.#uploadsSender;
    return Promise.all(
      docs.map(async (d) => {
        const key = String((d.metadata.upload as { key?: unknown }).key);
        try {
          await sender.send(queueUrl, [encodeS3ObjectCreated(bucket, key, 0)]);
          return { docId: d.id, status: 'queued' as const };
        } catch (err) {
          this.#log?.warn('upload not sent to parse', {
            docId: d.id,
            workspace,
            ...errorFields(err),
          });
          return {
            docId: d.id,
            status: 'failed' as const,
            error: 'The uploads queue did not accept it.',
          };
        }
      }),
    );
  }

  /**
   * Stored documents the queue did not take become `failed` with the reason, so they are not
   * `pending` forever and `POST /documents/reprocess` sends them again. The queue's own error
   * (it can name endpoints) goes to the log only.
   */
  async #recordUnsent(
    workspace: string,
    unsent: ReadonlyArray<Pick<EnqueueResult, 'docId' | 'error'>>,
  ): Promise<void> {
    for (const r of unsent) {
      this.#log?.warn('document stored but not enqueued', { docId: r.docId, error: r.error });
    }
    const s = await this.#pipeline.storages(workspace);
    const rows = await s.docStatus.getByIds(unsent.flatMap((r) => (r.docId ? [r.docId] : [])));
    await s.docStatus.upsert(
      rows
        .filter((row) => row !== null)
        .map((row) => ({ ...row, status: 'failed' as const, error_msg: NOT_ENQUEUED })),
    );
  }

  #requireQueue(): IngestQueueClient {
    if (!this.#queue) throw new QueueNotConfiguredError();
    return this.#queue;
  }
}

const NOT_ENQUEUED =
  'Stored, but the ingest queue did not accept it; POST /documents/reprocess sends it again.';

/** Statuses a document can be stuck in once its worker's lease has run out. */
const REPROCESSABLE_WHEN_STUCK = ['pending', 'parsing', 'analyzing', 'processing'] as const;

/** An upload ticket whose file has not arrived: it waits for the caller, not for a worker. */
function awaitsFile(d: StoredDocStatus): boolean {
  return d.status === 'pending' && d.metadata.upload !== undefined;
}

/** A file with no text stored yet: its parse was cut off, or gave up on a transient failure. */
function needsParse(d: StoredDocStatus): boolean {
  if (d.metadata.upload === undefined) return false;
  return (
    d.status === 'parsing' ||
    (d.status === 'failed' && d.metadata.error_type === 'file_extraction_error')
  );
}

/** Why reprocessing passed over a document it could not take. */
function notTaken(d: StoredDocStatus, leaseSeconds: number): string {
  if (d.status === 'processed') return 'status is processed: nothing to do';
  if (awaitsFile(d)) return 'its file has not been uploaded yet: PUT it to the upload URL';
  const ends = leaseEnds(d, leaseSeconds);
  return `status is ${d.status}, held by its worker${ends ? ` until ${new Date(ends).toISOString()}` : ''} (WORK_LEASE_SECONDS)`;
}

function withoutKeys(meta: Record<string, unknown>, keys: readonly string[]) {
  return Object.fromEntries(Object.entries(meta).filter(([k]) => !keys.includes(k)));
}

/**
 * A worker holding the document (the ingest or parse function, or a LightRAG worker) would write
 * its chunks back; once its lease has run out the worker is gone and the document may go.
 */
function refuseBusy(
  docId: string,
  current: LeasedDocument | null,
  leaseSeconds: number,
  now = Date.now(),
): void {
  if (current && WORKING_STATUSES.has(current.status) && isHeld(current, leaseSeconds, now)) {
    throw new DocumentBusyError(docId, current.status, leaseEnds(current, leaseSeconds));
  }
}
