/**
 * The parse function's container state, and one SQS record of the uploads queue (an S3 event
 * notification) handled: each upload it announces is parsed and handed to the ingest queue.
 */
import type { SQSRecord } from 'aws-lambda';
import { type ContainerBase, containerRuntime, onFirstUse } from '../container.ts';
import { createEmbedder } from '../embedding/index.ts';
import { withLogContext } from '../logger.ts';
import { metricCount } from '../ops/metrics.ts';
import { PipelineLog } from '../pipeline/status.ts';
import { SqsMessageSender } from '../queue/sender.ts';
import { openStorages, type Storages } from '../storage/index.ts';
import { requireQueuedWorkspace } from '../workspace.ts';
import { uploadsInEvent } from './objects.ts';
import { type ParseOutcome, UploadParser } from './parse.ts';

/** What the parse function keeps in its container: the parser, and the storages it writes. */
export interface UploadRuntime extends ContainerBase {
  uploads: UploadParser;
  pipelineLog: PipelineLog;
  storages(workspace: string): Promise<Storages>;
}

export const getUploadRuntime: () => UploadRuntime = containerRuntime(({ config, db, logger }) => {
  // The parse function never embeds: the storages get an embedder made only if one is asked for.
  const embedder = onFirstUse(() => createEmbedder(config, logger));
  return {
    uploads: new UploadParser(db, config, new SqsMessageSender(config.queue), logger),
    pipelineLog: new PipelineLog(db, logger),
    storages: (workspace: string) => openStorages(db, config, embedder, workspace),
  };
});

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
    if (outcome.status !== 'skipped') {
      await rt.pipelineLog.note(
        object.workspace,
        outcome.status === 'analyzing'
          ? `Parsed ${object.fileName}; queued for indexing`
          : `Could not parse ${object.fileName}: ${outcome.reason ?? 'failed'}`,
      );
    }
    outcomes.push(outcome);
  }
  return outcomes;
}
