/**
 * SQS-triggered ingest function. Each record is handled on its own (at most INGEST_CONCURRENCY
 * at once); failures are reported per record (`ReportBatchItemFailures`) so the rest commit and
 * only the failed messages come back, then go to the dead-letter queue after the redrive count.
 */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { settleWithConcurrency } from '../lib/concurrency.ts';
import { getIngestRuntime, processIngestRecord } from '../lib/ingest/runtime.ts';
import { errorFields } from '../lib/logger.ts';

/** The handler before middy: one settled result per record, in order. */
export async function ingestBatch(event: SQSEvent) {
  const rt = getIngestRuntime();
  return settleWithConcurrency(event.Records, rt.config.ingest.concurrency, (record) =>
    processIngestRecord(rt, record),
  );
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(
    sqsPartialBatchFailure({
      // Log the failure without the record body (a document can be a megabyte).
      logger: (
        reason: unknown,
        record: { messageId: string; attributes?: { ApproximateReceiveCount?: string } },
      ) =>
        getIngestRuntime().logger.warn('message reported for redelivery', {
          messageId: record.messageId,
          receiveCount: record.attributes?.ApproximateReceiveCount,
          ...errorFields(reason),
        }),
    }),
  )
  .handler(ingestBatch as unknown as (event: SQSEvent) => Promise<SQSBatchResponse>);
