/**
 * LightRAG's deletions, run in the background through the ingest queue: a workspace can take
 * longer to empty than API Gateway's 30 s, so `DELETE /documents/delete_document` and
 * `DELETE /documents` queue the work and answer at once, and the ingest function does it, one
 * document at a time, writing its progress to the pipeline log (`pipeline_status`). Every step
 * can be repeated: a redelivered message skips what is already gone.
 *
 * @example
 * ```ts
 * const work = new BackgroundWork(documents, pipeline, sender, queueUrl);
 * await work.requestDeletion(['doc-1'], 'default', { deleteLlmCache: false });
 * // later, in the ingest function:
 * await work.run(decodeMaintenanceMessage(record.body)!, { finalAttempt: false });
 * ```
 */
import {
  DeletionDeferredError,
  DocumentBusyError,
  DocumentNotFoundError,
  QueueNotConfiguredError,
} from '../errors.ts';
import type { IngestPipeline } from '../pipeline/ingest.ts';
import {
  encodeMaintenanceMessage,
  MAX_DELETE_IDS,
  type MaintenanceMessage,
} from '../queue/messages.ts';
import type { MessageSender } from '../queue/sender.ts';
import type { DocumentService } from './service.ts';

/** Ids one `delete_document` request may name. */
export const MAX_DELETE_REQUEST_IDS = 10_000;

/** What a delete message's run did. */
export interface MaintenanceOutcome {
  kind: MaintenanceMessage['kind'];
  workspace: string;
  deleted: number;
  missing: number;
}

export class BackgroundWork {
  readonly #documents: DocumentService;
  readonly #pipeline: IngestPipeline;
  readonly #sender: MessageSender;
  readonly #queueUrl: string | undefined;

  constructor(
    documents: DocumentService,
    pipeline: IngestPipeline,
    sender: MessageSender,
    queueUrl: string | undefined,
  ) {
    this.#documents = documents;
    this.#pipeline = pipeline;
    this.#sender = sender;
    this.#queueUrl = queueUrl;
  }

  #queue(): string {
    if (!this.#queueUrl) throw new QueueNotConfiguredError();
    return this.#queueUrl;
  }

  /** `delete_document`: the ids queued for deletion (in messages of {@link MAX_DELETE_IDS}). */
  async requestDeletion(
    ids: readonly string[],
    workspace: string,
    options: { deleteLlmCache: boolean },
  ): Promise<{ status: 'deletion_started'; message: string; doc_id: string }> {
    const queueUrl = this.#queue();
    const unique = [...new Set(ids)];
    const bodies: string[] = [];
    for (let i = 0; i < unique.length; i += MAX_DELETE_IDS) {
      bodies.push(
        encodeMaintenanceMessage({
          kind: 'delete',
          workspace,
          docIds: unique.slice(i, i + MAX_DELETE_IDS),
          deleteLlmCache: options.deleteLlmCache,
        }),
      );
    }
    await this.#sender.send(queueUrl, bodies);
    await this.#pipeline.pipelineLog.note(
      workspace,
      `Deletion of ${unique.length} document${unique.length === 1 ? '' : 's'} queued`,
    );
    return {
      status: 'deletion_started',
      message: `Deleting ${unique.length} document${unique.length === 1 ? '' : 's'} in the background; GET /documents/pipeline_status shows the progress.`,
      doc_id: unique.join(', '),
    };
  }

  /**
   * `DELETE /documents`: every document of the workspace, in the background; `busy` (nothing
   * queued) while documents are waiting or in progress, as LightRAG refuses then.
   */
  async requestClear(workspace: string): Promise<{ status: 'success' | 'busy'; message: string }> {
    const queueUrl = this.#queue();
    const s = await this.#pipeline.storages(workspace);
    const active = await s.docStatus.activeSummary();
    if (active.count > 0) {
      return {
        status: 'busy',
        message: `${active.count} document(s) are waiting or in progress; cancel the pipeline or wait, then clear.`,
      };
    }
    await this.#sender.send(queueUrl, [encodeMaintenanceMessage({ kind: 'clear', workspace })]);
    await this.#pipeline.pipelineLog.note(workspace, 'Clearing every document of the workspace');
    return {
      status: 'success',
      message:
        'Clearing every document of the workspace in the background; GET /documents/pipeline_status shows when it is done.',
    };
  }

  /**
   * The ingest function's side. A document still being processed makes the message come back
   * (retryable) until it is done; on the last delivery it is left, with a line in the log.
   */
  async run(
    message: MaintenanceMessage,
    options: { finalAttempt?: boolean } = {},
  ): Promise<MaintenanceOutcome> {
    const log = this.#pipeline.pipelineLog;
    const { workspace } = message;
    if (message.kind === 'clear') {
      const deleted = await this.#clear(workspace);
      await log.note(workspace, `Cleared the workspace: ${deleted} document(s) deleted`);
      return { kind: 'clear', workspace, deleted, missing: 0 };
    }
    let deleted = 0;
    let missing = 0;
    const busy: string[] = [];
    for (const docId of message.docIds) {
      try {
        await this.#documents.delete(docId, workspace, { deleteLlmCache: message.deleteLlmCache });
        deleted += 1;
        await log.note(workspace, `Deleted ${docId}`);
      } catch (err) {
        if (err instanceof DocumentNotFoundError) missing += 1;
        else if (err instanceof DocumentBusyError) busy.push(docId);
        else throw err; // Redelivered: what was deleted is then missing, the rest goes on.
      }
    }
    if (busy.length > 0) {
      const text = `${busy.length} document(s) still in progress, not deleted: ${busy.slice(0, 5).join(', ')}`;
      await log.note(
        workspace,
        options.finalAttempt ? `${text}; giving up` : `${text}; will retry`,
      );
      if (!options.finalAttempt) throw new DeletionDeferredError(busy);
    }
    return { kind: 'delete', workspace, deleted, missing };
  }

  /** Every storage of the workspace emptied; the status rows last, so a crash leaves them listed. */
  async #clear(workspace: string): Promise<number> {
    const s = await this.#pipeline.storages(workspace);
    await s.graph.drop();
    for (const storage of [
      s.entitiesVdb,
      s.relationshipsVdb,
      s.chunksVdb,
      s.textChunks,
      s.fullEntities,
      s.fullRelations,
      s.entityChunks,
      s.relationChunks,
      s.fullDocs,
    ]) {
      await storage.drop();
    }
    await s.extractionRuns.drop();
    await s.graphUpkeep.drop();
    return s.docStatus.drop();
  }
}
