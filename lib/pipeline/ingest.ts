/**
 * The document pipeline, as LightRAG's `ainsert` runs it: clean → id → status `processing` →
 * chunk → embed → write chunks, vectors and status `processed` in one transaction. A document
 * is never shown `processed` with half its chunks, and re-running it (a redelivered message, a
 * crashed invocation) replaces what an earlier run wrote instead of duplicating it.
 */
import { randomUUID } from 'node:crypto';
import { mapWithConcurrency } from '../concurrency.ts';
import type { Config } from '../config.ts';
import type { ContainerBase } from '../container.ts';
import { withConflictRetry } from '../db/conflicts.ts';
import type { Database } from '../db/database.ts';
import { lockDocument } from '../db/locks.ts';
import { createEmbedder } from '../embedding/index.ts';
import type { Embedder } from '../embedding/types.ts';
import {
  DocumentNotFoundError,
  FanOutNotConfiguredError,
  givesUp,
  giveUpReason,
  ValidationError,
} from '../errors.ts';
import { type ChunkExtraction, GraphExtractor } from '../graph/extract.ts';
import { type ApplyResult, GraphMerger, groupExtractions } from '../graph/merge.ts';
import { Summarizer } from '../graph/summarize.ts';
import { addUpkeepStats, GraphUpkeep } from '../graph/upkeep.ts';
import { chunkIdFor, generateTrackId, storedFilePath } from '../ids.ts';
import { createLlm } from '../llm/index.ts';
import type { Llm } from '../llm/types.ts';
import { addLogContext, errorFields, type Logger } from '../logger.ts';
import type { ExtractionMessage } from '../queue/messages.ts';
import { type MessageSender, SqsMessageSender } from '../queue/sender.ts';
import { dedupeLastWins } from '../storage/batch.ts';
import type { DocStatusRecord, StoredDocStatus } from '../storage/doc-status.ts';
import { openStorages, type Storages } from '../storage/index.ts';
import { contentFields, newStatus } from '../storage/status-rows.ts';
import { sanitizeText } from '../text.ts';
import { type Chunk, chunkDocument } from './chunking.ts';
import { type BatchOutcome, ExtractionFanOut } from './fan-out.ts';
import { type DuplicateKind, duplicateRecord, identify, notReprocessable } from './identity.ts';
import { PipelineLog } from './status.ts';

/** A document for the pipeline: inline text, or the id of one stored first. */
export interface IngestInput {
  /** Inline text; or `docId` of a document already stored in LIGHTRAG_DOC_FULL. */
  content?: string;
  docId?: string;
  workspace?: string;
  filePath?: string | null;
  trackId?: string | null;
  metadata?: Record<string, unknown>;
  /** The merge of a fanned-out document's run (lib/pipeline/fan-out.ts): its run id. */
  merge?: string;
}

/** What the pipeline did with a document. */
export interface IngestResult {
  docId: string;
  workspace: string;
  /** `processing`: fanned out; the extraction queue carries it on (see `fanOut`). */
  status: 'processed' | 'failed' | 'processing';
  /**
   * True when nothing was done: the document was already processed, or (LightRAG 1.5 rules) it
   * duplicates another by file name or content — then `docId` is the original's and a `dup-…`
   * marker row records the attempt.
   */
  duplicate: boolean;
  duplicateKind?: DuplicateKind;
  chunks: number;
  /** Entities and relations merged into the graph (0 when the graph stage is off). */
  entities: number;
  relations: number;
  error?: string;
  durationMs: number;
  /** The run this delivery started when the document was fanned out. */
  fanOut?: { runId: string; batches: number };
  /** A merge request that did nothing: its run was replaced, or another message merges it. */
  skipped?: 'stale-run' | 'merge-claimed';
}

/** How one delivery of a document is run. */
export interface IngestOptions {
  /** The last delivery the queue will make: a retryable failure is then recorded as `failed`. */
  finalAttempt?: boolean;
  /** The queue message's id: a merge is claimed by one message (its redeliveries may resume it). */
  messageId?: string;
  /**
   * Epoch ms after which the graph upkeep that follows the document starts no new round
   * (default: {@link UPKEEP_BUDGET_MS} after its commit).
   */
  upkeepDeadline?: number;
  /**
   * When this delivery's message was sent (epoch ms; SQS's SentTimestamp): a cancellation
   * requested later does not stop it, and a reprocess after one runs.
   */
  submittedAt?: number;
}

/** How long the graph upkeep after a document may go on starting rounds, by default. */
export const UPKEEP_BUDGET_MS = 60_000;
/** Due elements of the workspace a document's invocation takes on after its own (a sweep). */
export const UPKEEP_SWEEP_LIMIT = 5;

/** What the pipeline sends fan-out messages with (default: SQS). */
export interface PipelineOptions {
  /** Sends fan-out messages (default: SQS, when both queues are configured). */
  sender?: MessageSender;
}

/**
 * The pipeline of a function's container: the configured embedder and LLM unless `providers`
 * replaces them (a hash embedder and a scripted LLM in simulated containers).
 *
 * @example
 * ```ts
 * const pipeline = createPipeline(containerBase());
 * ```
 */
export function createPipeline(
  { config, db, logger }: ContainerBase,
  providers: { embedder?: Embedder; llm?: Llm } = {},
): IngestPipeline {
  return new IngestPipeline(
    db,
    config,
    providers.embedder ?? createEmbedder(config, logger),
    logger,
    'llm' in providers ? providers.llm : createLlm(config.llm, logger),
  );
}

/**
 * Runs documents through chunking, embedding and storage.
 *
 * @example
 * ```ts
 * const pipeline = new IngestPipeline(getDatabase(), getConfig(), embedder, logger);
 * const result = await pipeline.ingest({ content: 'Some text', filePath: 'notes.md' });
 * result.status; // 'processed'
 * ```
 */
export class IngestPipeline {
  readonly #db: Database;
  readonly #config: Config;
  readonly #embedder: Embedder;
  readonly #log: Logger;
  readonly #extractor: GraphExtractor | undefined;
  readonly #fanOut: ExtractionFanOut | undefined;
  /** Merges extractions into the graph; deletions use it too, to rebuild what they leave. */
  readonly graphMerger: GraphMerger;
  /** Brings contended elements' summaries and vectors up to date after a write. */
  readonly graphUpkeep: GraphUpkeep;
  /** The workspace's pipeline log and cancellation flag (LightRAG's pipeline_status). */
  readonly pipelineLog: PipelineLog;

  /** With `llm` and `ENABLE_GRAPH` on, chunks also go through entity extraction and graph merging. */
  constructor(
    db: Database,
    config: Config,
    embedder: Embedder,
    logger: Logger,
    llm?: Llm,
    options: PipelineOptions = {},
  ) {
    this.#db = db;
    this.#config = config;
    this.#embedder = embedder;
    this.#log = logger;
    this.graphMerger = new GraphMerger(
      new Summarizer(llm, config.graph, config.chunking.encoding, logger),
      config.graph,
    );
    this.graphUpkeep = new GraphUpkeep(db, this.graphMerger, logger);
    this.pipelineLog = new PipelineLog(db, logger);
    if (llm && config.graph.enabled) {
      this.#extractor = new GraphExtractor(llm, config.graph, config.chunking, logger);
      const { extractionQueueUrl, queueUrl } = config.queue;
      if (extractionQueueUrl && queueUrl) {
        const sender = options.sender ?? new SqsMessageSender(config.queue);
        this.#fanOut = new ExtractionFanOut(db, config, this.#extractor, sender, logger);
      }
    }
  }

  /**
   * Extracts one batch of a fanned-out document (a message of the extraction queue).
   *
   * @example
   * ```ts
   * await pipeline.extractBatch(decodeExtractionMessage(record.body), { finalAttempt: false });
   * ```
   */
  async extractBatch(
    message: ExtractionMessage,
    options: IngestOptions = {},
  ): Promise<BatchOutcome> {
    if (!this.#fanOut) throw new FanOutNotConfiguredError();
    return this.#fanOut.extractBatch(await this.storages(message.workspace), message, options);
  }

  /** Whether documents go through the knowledge-graph stage. */
  get graphEnabled(): boolean {
    return this.#extractor !== undefined;
  }

  storages(workspace: string = this.#config.workspace): Promise<Storages> {
    return openStorages(this.#db, this.#config, this.#embedder, workspace);
  }

  /**
   * Stores a document with status `pending` without processing it (for documents sent to the
   * queue by id). Returns its id; `duplicate` when it was already processed.
   */
  async store(
    input: IngestInput & { content: string },
  ): Promise<{ docId: string; duplicate: boolean; duplicateKind?: DuplicateKind }> {
    const s = await this.storages(input.workspace);
    const content = cleanContent(input.content);
    const identity = await identify(s, content, input.filePath, this.#config.ingest.idRules);
    const { docId, existing, duplicate } = identity;
    if (duplicate) {
      const trackId = input.trackId ?? generateTrackId();
      await s.docStatus.upsert([duplicateRecord({ ...identity, duplicate }, content, trackId)]);
      return { docId: duplicate.original.id, duplicate: true, duplicateKind: duplicate.kind };
    }
    if (existing?.status === 'processed') return { docId, duplicate: true };
    const withPath = { ...input, filePath: identity.filePath };
    await this.#db.withTransaction(async (tx) => {
      const t = s.in(tx);
      await t.fullDocs.upsert([
        { id: docId, content, file_path: identity.filePath, meta: input.metadata ?? null },
      ]);
      await t.docStatus.upsert([
        this.#status(docId, content, withPath, existing, { status: 'pending' }),
      ]);
    });
    return { docId, duplicate: false };
  }

  /**
   * Processes one document. A failure that will never succeed (bad input, a provider refusing)
   * marks it `failed` with the reason and resolves; a retryable one (database or provider
   * outage) is recorded on the status and rethrown so the queue delivers the message again.
   */
  async ingest(input: IngestInput, options: IngestOptions = {}): Promise<IngestResult> {
    const started = performance.now();
    const s = await this.storages(input.workspace);
    const refused = await this.#unprocessable(s, input, started);
    if (refused) return refused;
    const doc = await this.#resolve(s, input);
    const { docId, content, filePath, existing, duplicate } = doc;
    addLogContext({ docId, workspace: s.workspace });
    const done = (
      status: IngestResult['status'],
      fields: Partial<IngestResult> = {},
    ): IngestResult => ({
      docId,
      workspace: s.workspace,
      status,
      duplicate: false,
      chunks: 0,
      entities: 0,
      relations: 0,
      durationMs: Math.round(performance.now() - started),
      ...fields,
    });
    if (duplicate) {
      // Recorded as LightRAG records it; the original is untouched and nothing is processed.
      const trackId = input.trackId ?? generateTrackId();
      await s.docStatus.upsert([
        duplicateRecord({ docId, filePath, existing, duplicate }, content, trackId),
      ]);
      return {
        ...done('processed', { duplicate: true, duplicateKind: duplicate.kind }),
        docId: duplicate.original.id,
      };
    }
    if (existing?.status === 'processed') {
      return done('processed', { duplicate: true, chunks: existing.chunks_count ?? 0 });
    }
    const skipped = input.merge && (await this.#claimMerge(s, docId, input.merge, options));
    if (skipped) return done('processing', { skipped });
    const status = (fields: Pick<DocStatusRecord, 'status'> & Partial<DocStatusRecord>) =>
      this.#status(docId, content, { ...input, filePath }, existing, fields);
    await this.#markProcessing(s, doc, input, status);
    const label = filePath ?? docId;
    const log = this.pipelineLog;
    // This delivery's submission: its message's send time (a reprocess sends a new one), else
    // the status row's (kept in whole seconds: the end of that second, never cancelling later).
    const submittedAt =
      options.submittedAt ??
      (existing?.created_at ? Date.parse(existing.created_at) + 999 : Date.now());
    // Between steps: a cancellation requested after the document was submitted stops it here.
    const stopIfCancelled = (message?: string) =>
      log.stopIfCancelled(s.workspace, submittedAt, message);
    try {
      await stopIfCancelled(`${input.merge ? 'Merging' : 'Processing'} ${label}`);
      const chunks = await this.#chunk(docId, content);
      if (this.#fanOut && !input.merge && this.#fanOut.applies(chunks.length)) {
        const fanOut = await this.#fanOut.start(s, { docId, chunks, filePath, status });
        await log.note(
          s.workspace,
          `${label}: ${chunks.length} chunks sent for extraction in ${fanOut.batches} batches`,
        );
        return done('processing', { chunks: chunks.length, fanOut });
      }
      const vectors = await this.#embedder.embed(chunks.map((c) => c.content));
      // Before the LLM calls of extraction, the expensive part.
      if (this.#extractor) await stopIfCancelled();
      // LLM calls happen before the transaction: no lock or connection is held while they run.
      const extractions = await this.#extract(s, chunks, filePath);
      const merger = this.graphMerger;
      const groups = extractions && groupExtractions(extractions);
      // Summaries and entity/relation embeddings too, so the transaction below is short.
      const plan = groups && (await merger.plan(s, groups));
      await stopIfCancelled().catch(async (err: unknown) => {
        await merger.releaseLeases(s, plan);
        throw err;
      });
      let applied: ApplyResult | undefined;
      try {
        applied = await this.#commit(
          s,
          { docId, filePath, merge: input.merge },
          {
            chunks,
            vectors,
            extractions,
            plan,
            status,
          },
        );
      } catch (err) {
        await merger.releaseLeases(s, plan);
        throw err;
      }
      await this.#upkeep(s, applied, options.upkeepDeadline ?? Date.now() + UPKEEP_BUDGET_MS);
      const graph = { entities: plan?.nodes.length ?? 0, relations: plan?.edges.length ?? 0 };
      await log.note(
        s.workspace,
        `${label} processed: ${chunks.length} chunks, ${graph.entities} entities, ${graph.relations} relations`,
      );
      return done('processed', { chunks: chunks.length, ...graph });
    } catch (err) {
      const reason = await this.#failed(s, docId, err, options.finalAttempt, status);
      await log.note(s.workspace, `${label} failed: ${reason}`);
      return done('failed', { error: reason });
    }
  }

  /**
   * A message naming a duplicate marker or a file that could not be read (a stale or hand-made
   * message): nothing a run can do; its status keeps the reason.
   */
  async #unprocessable(
    s: Storages,
    input: IngestInput,
    started: number,
  ): Promise<IngestResult | undefined> {
    if (input.docId === undefined || input.content !== undefined) return undefined;
    const stored = await s.docStatus.getById(input.docId);
    const reason = stored?.status === 'failed' ? notReprocessable(stored) : undefined;
    if (!stored || !reason) return undefined;
    this.#log.info('message names a document that cannot be processed; ignored', {
      docId: input.docId,
      reason,
    });
    return {
      docId: stored.id,
      workspace: s.workspace,
      status: 'failed',
      duplicate: false,
      chunks: 0,
      entities: 0,
      relations: 0,
      error: reason,
      durationMs: Math.round(performance.now() - started),
    };
  }

  /**
   * One message merges a run: the reason a stale run or a second merge request does nothing, or
   * undefined when this message took the merge.
   */
  async #claimMerge(
    s: Storages,
    docId: string,
    runId: string,
    options: IngestOptions,
  ): Promise<'stale-run' | 'merge-claimed' | undefined> {
    const run = await s.extractionRuns.getRun(docId);
    if (run?.runId !== runId) return 'stale-run';
    const messageId = options.messageId ?? `direct-${randomUUID()}`;
    const lease = this.#config.ingest.workLeaseSeconds;
    if (!(await s.extractionRuns.claimMerge(docId, run.runId, messageId, lease)))
      return 'merge-claimed';
    return undefined;
  }

  /** The text stored (when it came inline) and the status `processing`, in one transaction. */
  async #markProcessing(
    s: Storages,
    doc: { docId: string; content: string; inline: boolean; filePath: string | null },
    input: IngestInput,
    status: (fields: Pick<DocStatusRecord, 'status'>) => DocStatusRecord,
  ): Promise<void> {
    await this.#db.withTransaction(async (tx) => {
      const t = s.in(tx);
      if (doc.inline) {
        await t.fullDocs.upsert([
          {
            id: doc.docId,
            content: doc.content,
            file_path: doc.filePath,
            meta: input.metadata ?? null,
          },
        ]);
      }
      await t.docStatus.upsert([status({ status: 'processing' })]);
    });
  }

  /** The document's chunks with their ids by the configured rules. */
  async #chunk(docId: string, content: string): Promise<Array<Chunk & { id: string }>> {
    const rules = this.#config.ingest.idRules;
    const chunked = (await chunkDocument(content, this.#config.chunking)).map((c) => ({
      ...c,
      id: chunkIdFor(docId, c.chunk_order_index, c.content, rules),
    }));
    // 1.4's content ids: identical windows share an id, and LightRAG keeps one, so do we.
    return rules === '1.4' ? dedupeLastWins(chunked, (c) => c.id) : chunked;
  }

  /**
   * The one transaction of a document: its chunks and chunk vectors replaced, its status
   * `processed`, then its part of the graph (the entity locks held for those writes and the
   * commit only). Retried on a serialisation conflict.
   */
  async #commit(
    s: Storages,
    doc: { docId: string; filePath: string | null; merge?: string },
    work: {
      chunks: Array<Chunk & { id: string }>;
      vectors: number[][];
      extractions: ChunkExtraction[] | undefined;
      plan: Awaited<ReturnType<GraphMerger['plan']>> | undefined;
      status: (
        fields: Pick<DocStatusRecord, 'status'> & Partial<DocStatusRecord>,
      ) => DocStatusRecord;
    },
  ): Promise<ApplyResult | undefined> {
    const { docId, filePath } = doc;
    const { chunks, vectors, extractions, plan } = work;
    const merger = this.graphMerger;
    return withConflictRetry(
      this.#db,
      async (tx) => {
        // One writer per document: two deliveries of the same message cannot interleave.
        await lockDocument(tx, s.workspace, docId);
        const t = s.in(tx);
        if (doc.merge) await t.extractionRuns.moveMerge(docId, doc.merge, ['merging'], 'done');
        await t.textChunks.deleteByDocId(docId);
        await t.chunksVdb.deleteByDocId(docId);
        const rows = chunks.map((c, i) => ({
          ...c,
          full_doc_id: docId,
          file_path: filePath,
          llm_cache_list: extractions?.[i]?.cacheKeys ?? [],
        }));
        await t.textChunks.upsert(rows);
        await t.chunksVdb.upsert(rows.map((r, i) => ({ ...r, vector: vectors[i]! })));
        await t.docStatus.upsert([
          work.status({
            status: 'processed',
            chunks_count: chunks.length,
            chunks_list: chunks.map((c) => c.id),
          }),
        ]);
        if (!plan) return undefined;
        await merger.writeAnchors(t, docId, plan.groups);
        return merger.apply(tx, s, plan);
      },
      { logger: this.#log },
    );
  }

  /**
   * The one failure policy (lib/errors.ts givesUp): give up → the document failed with the
   * reason, returned (the message is deleted); otherwise pending, and the error thrown (the
   * message comes back). A failure that cannot be recorded is thrown too: the message stays the
   * only record, so it comes back (and ends in the DLQ).
   */
  async #failed(
    s: Storages,
    docId: string,
    err: unknown,
    finalAttempt: boolean | undefined,
    status: (fields: Pick<DocStatusRecord, 'status'> & Partial<DocStatusRecord>) => DocStatusRecord,
  ): Promise<string> {
    const final = givesUp(err, finalAttempt);
    const reason = final ? giveUpReason(err) : err instanceof Error ? err.message : String(err);
    const recorded = await s.docStatus
      .upsert([
        status({
          status: final ? 'failed' : 'pending',
          error_msg: reason,
        }),
      ])
      .then(
        () => true,
        (statusErr: unknown) => {
          this.#log.warn('could not record the document failure', {
            docId,
            ...errorFields(statusErr),
          });
          return false;
        },
      );
    this.#log.warn(final ? 'document failed' : 'document failed; will retry', {
      docId,
      workspace: s.workspace,
      ...errorFields(err),
    });
    if (final && recorded) return reason;
    throw err;
  }

  /**
   * After a document's commit: its due elements (contended summaries and vectors), then a few
   * the workspace has left due (a crashed holder's, or one left at a deadline). The document is
   * processed whatever happens here; what fails stays due for the next sweep.
   */
  async #upkeep(s: Storages, applied: ApplyResult | undefined, deadline: number) {
    if (!this.#extractor) return;
    try {
      const stats = await this.graphUpkeep.refresh(s, applied?.due ?? [], { deadline });
      if (Date.now() < deadline) {
        addUpkeepStats(
          stats,
          await this.graphUpkeep.sweep(s, { deadline, limit: UPKEEP_SWEEP_LIMIT }),
        );
      }
      if (stats.summaries + stats.failed + stats.left > 0)
        this.#log.info('graph upkeep', { ...stats, contended: applied?.contended ?? 0 });
    } catch (err) {
      this.#log.warn('graph upkeep could not run; elements stay due', errorFields(err));
    }
  }

  /** Entity extraction of every chunk (bounded concurrency); undefined when the graph is off. */
  async #extract(
    s: Storages,
    chunks: ReadonlyArray<{ id: string; content: string }>,
    filePath: string | null,
  ): Promise<ChunkExtraction[] | undefined> {
    const extractor = this.#extractor;
    if (!extractor) return undefined;
    return mapWithConcurrency(chunks, this.#config.graph.extractionConcurrency, (chunk) =>
      extractor.extract(s.llmCache, { ...chunk, file_path: filePath }),
    );
  }

  async #resolve(s: Storages, input: IngestInput) {
    const rules = this.#config.ingest.idRules;
    if (input.content !== undefined) {
      const content = cleanContent(input.content);
      const identity = await identify(s, content, input.filePath, rules);
      return { ...identity, content, inline: true };
    }
    if (!input.docId) throw new ValidationError('Either content or docId is required.');
    const doc = await s.fullDocs.getById(input.docId);
    if (!doc) throw new DocumentNotFoundError(input.docId, s.workspace);
    const given = input.filePath ?? doc.file_path ?? null;
    return {
      docId: input.docId,
      content: doc.content,
      inline: false,
      // A stored document keeps its id (opaque: it may follow either generation's rules).
      filePath: storedFilePath(given, rules),
      existing: await s.docStatus.getById(input.docId),
      duplicate: undefined,
    };
  }

  #status(
    docId: string,
    content: string,
    input: IngestInput,
    existing: StoredDocStatus | null,
    fields: Pick<DocStatusRecord, 'status'> & Partial<DocStatusRecord>,
  ): DocStatusRecord {
    return newStatus(docId, {
      ...contentFields(content),
      file_path: input.filePath ?? existing?.file_path ?? null,
      track_id: input.trackId ?? existing?.track_id ?? generateTrackId(),
      // The caller's metadata under its own key: the pipeline's keys (error_type, upload,
      // is_duplicate, extraction, …) are never the caller's to set.
      metadata:
        input.metadata !== undefined
          ? { ...(existing?.metadata ?? {}), caller: input.metadata }
          : (existing?.metadata ?? {}),
      chunks_count: existing?.chunks_count ?? null,
      chunks_list: existing?.chunks_list ?? [],
      ...fields,
    });
  }
}

/** NUL removed, lone surrogates replaced, surrounding whitespace trimmed; empty is refused. */
function cleanContent(content: string): string {
  if (typeof content !== 'string') throw new ValidationError('Document content must be a string.');
  const clean = sanitizeText(content).trim();
  if (clean === '')
    throw new ValidationError('Document content is empty (or only whitespace and NUL characters).');
  return clean;
}
