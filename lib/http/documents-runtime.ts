/** The documents function's container state: the document use cases and the ingest queue. */
import { type ContainerBase, containerRuntime } from '../container.ts';
import { BackgroundWork } from '../documents/background.ts';
import { DocumentService } from '../documents/service.ts';
import { createPipeline, type IngestPipeline } from '../pipeline/ingest.ts';
import type { PipelineLog } from '../pipeline/status.ts';
import { IngestQueueClient } from '../queue/enqueue.ts';
import { SqsMessageSender } from '../queue/sender.ts';
import { createSqsClient } from '../queue/sqs.ts';
import { UploadRequests } from '../uploads/request.ts';

/** What the documents function keeps in its container. */
export interface DocumentsRuntime extends ContainerBase {
  documents: DocumentService;
  /** LightRAG's deletions, queued for the ingest function. */
  background: BackgroundWork;
  /** The workspace's pipeline log and cancellation flag. */
  pipelineLog: PipelineLog;
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
  const documents = new DocumentService(db, config, pipeline, queue, logger);
  return {
    documents,
    background: new BackgroundWork(
      documents,
      pipeline,
      new SqsMessageSender(config.queue),
      config.queue.queueUrl,
    ),
    pipelineLog: pipeline.pipelineLog,
    uploads: new UploadRequests(db, config),
    storages: (workspace: string) => pipeline.storages(workspace),
  };
});
