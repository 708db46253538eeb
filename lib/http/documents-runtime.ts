/** The documents function's container state: the document use cases and the ingest queue. */
import { type ContainerBase, containerRuntime } from '../container.ts';
import { DocumentService } from '../documents/service.ts';
import { createPipeline, type IngestPipeline } from '../pipeline/ingest.ts';
import { IngestQueueClient } from '../queue/enqueue.ts';
import { createSqsClient } from '../queue/sqs.ts';
import { UploadRequests } from '../uploads/request.ts';

/** What the documents function keeps in its container. */
export interface DocumentsRuntime extends ContainerBase {
  documents: DocumentService;
  uploads: UploadRequests;
  /** The storages of a workspace (schema checked once per container). */
  storages: IngestPipeline['storages'];
}

export const getDocumentsRuntime: () => DocumentsRuntime = containerRuntime((base) => {
  const { config, db, logger } = base;
  const pipeline = createPipeline(base);
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
  return {
    documents: new DocumentService(db, config, pipeline, queue, logger),
    uploads: new UploadRequests(db, config),
    storages: (workspace: string) => pipeline.storages(workspace),
  };
});
