/**
 * What the API functions keep in their container between invocations, built on first use.
 */
import { type Config, getConfig } from '../config.ts';
import { getDatabase } from '../db/container.ts';
import type { Database } from '../db/database.ts';
import { DocumentService } from '../documents/service.ts';
import { createEmbedder } from '../embedding/index.ts';
import { GraphService } from '../graph/service.ts';
import { createLlm } from '../llm/index.ts';
import { createLogger, type Logger } from '../logger.ts';
import { IngestPipeline } from '../pipeline/ingest.ts';
import { QueryEngine } from '../query/engine.ts';
import { IngestQueueClient } from '../queue/enqueue.ts';
import { createSqsClient } from '../queue/sqs.ts';

export interface ApiRuntime {
  config: Config;
  db: Database;
  logger: Logger;
  engine: QueryEngine;
  documents: DocumentService;
  graph: GraphService;
}

let runtime: ApiRuntime | undefined;

export function getApiRuntime(): ApiRuntime {
  if (!runtime) {
    const config = getConfig();
    const logger = createLogger(config.logLevel);
    const db = getDatabase();
    const embedder = createEmbedder(config, logger);
    const llm = createLlm(config.llm, logger);
    const pipeline = new IngestPipeline(db, config, embedder, logger, llm);
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
      config,
      db,
      logger,
      engine: new QueryEngine(db, config, embedder, llm, logger),
      documents: new DocumentService(db, config, pipeline, queue),
      graph: new GraphService(db, config),
    };
  }
  return runtime;
}

/** The configured logger even when the configuration itself is what failed. */
export function apiLogger(): Logger {
  try {
    return getApiRuntime().logger;
  } catch {
    return createLogger('info');
  }
}
