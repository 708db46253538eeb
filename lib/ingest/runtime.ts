/**
 * What the ingest function keeps in its container between invocations: configuration, the
 * pool, the embedder and the pipeline, created on the first invocation.
 */
import type { SQSRecord } from 'aws-lambda';
import { type ContainerBase, containerRuntime } from '../container.ts';
import { BackgroundWork, type MaintenanceOutcome } from '../documents/background.ts';
import { DocumentService } from '../documents/service.ts';
import { addLogContext } from '../logger.ts';
import { metricCount, metricDuration } from '../ops/metrics.ts';
import type { BatchOutcome } from '../pipeline/fan-out.ts';
import {
  createPipeline,
  type IngestPipeline,
  type IngestResult,
  UPKEEP_BUDGET_MS,
} from '../pipeline/ingest.ts';
import {
  decodeExtractionMessage,
  decodeIngestMessage,
  decodeMaintenanceMessage,
} from '../queue/messages.ts';
import { SqsMessageSender } from '../queue/sender.ts';
import { requireQueuedWorkspace } from '../workspace.ts';

/** What the ingest and extract functions keep in their container: the pipeline, on the base. */
export interface IngestRuntime extends ContainerBase {
  pipeline: IngestPipeline;
  /** LightRAG's deletions queued by the documents function. */
  background: BackgroundWork;
}

/** The container's ingest runtime, built on the first invocation from the environment. */
/** The ingest runtime around `pipeline` (simulated containers pass their own). */
export function ingestRuntime(base: ContainerBase, pipeline: IngestPipeline): IngestRuntime {
  const documents = new DocumentService(base.db, base.config, pipeline, undefined, base.logger);
  const sender = new SqsMessageSender(base.config.queue);
  return {
    ...base,
    pipeline,
    background: new BackgroundWork(documents, pipeline, sender, base.config.queue.queueUrl),
  };
}

export const getIngestRuntime: () => IngestRuntime = containerRuntime((base) =>
  ingestRuntime(base, createPipeline(base)),
);

/**
 * Handles one SQS record: parse, validate, run the pipeline. Resolves when the message is done
 * with (processed, a duplicate, or failed for good with the reason on its status); rejects when
 * the message should come back (a retryable failure, or a message that is not a document).
 */
export async function processIngestRecord(
  rt: IngestRuntime,
  record: SQSRecord,
  context?: { getRemainingTimeInMillis?: () => number },
): Promise<IngestResult | MaintenanceOutcome> {
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const maintenance = decodeMaintenanceMessage(record.body);
  if (maintenance) {
    requireQueuedWorkspace(
      rt.config.api.allowedWorkspaces,
      maintenance.workspace,
      'the message was not processed',
    );
    addLogContext({ workspace: maintenance.workspace });
    const outcome = await rt.background.run(maintenance, {
      finalAttempt: receives >= rt.config.ingest.maxReceiveCount,
    });
    rt.logger.info('background work done', { messageId: record.messageId, ...outcome });
    return outcome;
  }
  const message = decodeIngestMessage(record.body, rt.config.ingest);
  requireQueuedWorkspace(
    rt.config.api.allowedWorkspaces,
    message.workspace ?? rt.config.workspace,
    'the message was not processed',
  );
  addLogContext({ workspace: message.workspace ?? rt.config.workspace });
  const sent = Number(record.attributes?.SentTimestamp);
  const result = await rt.pipeline.ingest(message, {
    finalAttempt: receives >= rt.config.ingest.maxReceiveCount,
    messageId: record.messageId,
    upkeepDeadline: upkeepDeadline(context),
    ...(Number.isFinite(sent) && sent > 0 ? { submittedAt: sent } : {}),
  });
  metricCount(
    result.status === 'failed'
      ? 'DocumentsFailed'
      : result.status === 'processing'
        ? 'DocumentsFannedOut'
        : result.duplicate
          ? 'DocumentsDuplicate'
          : 'DocumentsProcessed',
  );
  if (!result.duplicate) metricCount('Chunks', result.chunks);
  metricDuration('IngestDuration', result.durationMs);
  if (Number.isFinite(sent) && sent > 0) metricDuration('QueueAge', Date.now() - sent);
  rt.logger.info('document ingested', {
    messageId: record.messageId,
    docId: result.docId,
    workspace: result.workspace,
    status: result.status,
    duplicate: result.duplicate,
    chunks: result.chunks,
    entities: result.entities,
    relations: result.relations,
    durationMs: result.durationMs,
    ...(result.fanOut ? { fanOut: result.fanOut } : {}),
    ...(result.skipped ? { skipped: result.skipped } : {}),
    ...(result.error ? { error: result.error } : {}),
  });
  return result;
}

/** Time kept back from the invocation's end: the other records of the batch still need theirs. */
const UPKEEP_MARGIN_MS = 60_000;

/**
 * When the graph upkeep after a document stops starting rounds: its budget, and well before the
 * invocation ends (an invocation cut off by its timeout would send the whole batch back).
 */
function upkeepDeadline(context?: { getRemainingTimeInMillis?: () => number }) {
  const budget = Date.now() + UPKEEP_BUDGET_MS;
  const remaining = context?.getRemainingTimeInMillis?.();
  return remaining === undefined
    ? budget
    : Math.min(budget, Date.now() + remaining - UPKEEP_MARGIN_MS);
}

/**
 * Handles one record of the extraction queue: one chunk batch of a fanned-out document.
 * Resolves when the batch is settled (extracted, failed for good, or stale); rejects to have it
 * delivered again.
 */
export async function processExtractionRecord(
  rt: IngestRuntime,
  record: SQSRecord,
): Promise<BatchOutcome> {
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const message = decodeExtractionMessage(record.body);
  requireQueuedWorkspace(
    rt.config.api.allowedWorkspaces,
    message.workspace,
    'the message was not processed',
  );
  addLogContext({ workspace: message.workspace, docId: message.docId, batch: message.batch });
  const sent = Number(record.attributes?.SentTimestamp);
  const outcome = await rt.pipeline.extractBatch(message, {
    finalAttempt: receives >= rt.config.ingest.maxReceiveCount,
    ...(Number.isFinite(sent) && sent > 0 ? { submittedAt: sent } : {}),
  });
  metricCount(
    `ExtractionBatches${outcome.outcome === 'extracted' ? 'Extracted' : outcome.outcome === 'failed' ? 'Failed' : 'Skipped'}`,
  );
  rt.logger.info('extraction batch settled', { messageId: record.messageId, ...outcome });
  return outcome;
}
