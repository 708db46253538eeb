/** The documents function's container state: the document use cases and the ingest queue. */
import { DocumentService } from '../documents/service.ts';
import { createEmbedder } from '../embedding/index.ts';
import { createLlm } from '../llm/index.ts';
import { IngestPipeline } from '../pipeline/ingest.ts';
import { IngestQueueClient } from '../queue/enqueue.ts';
import { createSqsClient } from '../queue/sqs.ts';
import { UploadRequests } from '../uploads/request.ts';
import { type ApiBase, getApiBase } from './runtime.ts';

export interface DocumentsRuntime extends ApiBase {
  documents: DocumentService;
  uploads: UploadRequests;
  /** The storages of a workspace (schema checked once per container). */
  storages: IngestPipeline['storages'];
}

let runtime: DocumentsRuntime | undefined;

export function getDocumentsRuntime(): DocumentsRuntime {
  if (!runtime || runtime.db.ended) {
    const base = getApiBase();
    const { config, db, logger } = base;
    const pipeline = new IngestPipeline(
      db,
      config,
      createEmbedder(config, logger),
      logger,
      createLlm(config.llm, logger),
    );
    const queue = config.queue.queueUrl
      ? new IngestQueueClient({
          sqs: () => createSqsClient(config.queue),
          queueUrl: config.queue.queueUrl,
          maxMessageBytes: config.queue.maxMessageBytes,
          maxDocumentBytes: config.ingest.maxDocumentBytes,
          pipeline,
          idRules: config.ingest.idRules,
        })
      : undefined;
    runtime = {
      ...base,
      documents: new DocumentService(db, config, pipeline, queue, logger),
      uploads: new UploadRequests(db, config),
      storages: (workspace) => pipeline.storages(workspace),
    };
  }
  return runtime;
}
