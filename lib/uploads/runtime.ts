/**
 * The parse function's container state, and one SQS record of the uploads queue (an S3 event
 * notification) handled: each upload it announces is parsed and handed to the ingest queue.
 */
import type { SQSRecord } from 'aws-lambda';
import { type Config, getConfig } from '../config.ts';
import { getDatabase } from '../db/container.ts';
import type { Database } from '../db/database.ts';
import { createEmbedder } from '../embedding/index.ts';
import { createLogger, type Logger, withLogContext } from '../logger.ts';
import { metricCount } from '../ops/metrics.ts';
import { SqsMessageSender } from '../queue/sender.ts';
import { openStorages, type Storages } from '../storage/index.ts';
import { requireQueuedWorkspace } from '../workspace.ts';
import { uploadsInEvent } from './objects.ts';
import { type ParseOutcome, UploadParser } from './parse.ts';

export interface UploadRuntime {
  config: Config;
  db: Database;
  uploads: UploadParser;
  logger: Logger;
  storages(workspace: string): Promise<Storages>;
}

let runtime: UploadRuntime | undefined;

export function getUploadRuntime(): UploadRuntime {
  if (!runtime || runtime.db.ended) {
    const config = getConfig();
    const logger = createLogger(config.logLevel);
    const db = getDatabase();
    // The parse function never embeds; the storages only need the vector configuration.
    const embedder = createEmbedder(config, logger);
    runtime = {
      config,
      db,
      logger,
      uploads: new UploadParser(db, config, new SqsMessageSender(config.queue), logger),
      storages: (workspace) => openStorages(db, config, embedder, workspace),
    };
  }
  return runtime;
}

/**
 * Parses every upload an S3 event record announces. Resolves when each is queued for ingest,
 * failed for good, or not awaited by any document; rejects to have the record delivered again.
 */
export async function processUploadRecord(
  rt: UploadRuntime,
  record: SQSRecord,
): Promise<ParseOutcome[]> {
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const outcomes: ParseOutcome[] = [];
  for (const object of uploadsInEvent(record.body)) {
    requireQueuedWorkspace(
      rt.config.api.allowedWorkspaces,
      object.workspace,
      'the upload was not parsed',
    );
    const outcome = await withLogContext(
      { workspace: object.workspace, docId: object.docId },
      async () =>
        rt.uploads.parseUpload(await rt.storages(object.workspace), object, {
          finalAttempt: receives >= rt.config.ingest.maxReceiveCount,
          messageId: record.messageId,
        }),
    );
    metricCount(
      outcome.status === 'analyzing'
        ? 'FilesParsed'
        : outcome.status === 'failed'
          ? 'FilesRejected'
          : 'FilesIgnored',
    );
    rt.logger.info('upload parsed', { messageId: record.messageId, key: object.key, ...outcome });
    outcomes.push(outcome);
  }
  return outcomes;
}
