/**
 * SQS-triggered ingest function. Each record is handled on its own (at most INGEST_CONCURRENCY
 * at once); failures are reported per record (`ReportBatchItemFailures`) so the rest commit and
 * only the failed messages come back, then go to the dead-letter queue after the redrive count.
 * The batch response is built here: @middy/sqs-partial-batch-failure has no release for middy 7.
 */
import middy from '@middy/core';
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

/** The records that failed, for SQS to deliver again; the others are deleted from the queue. */
export async function ingestBatchResponse(event: SQSEvent): Promise<SQSBatchResponse> {
  const settled = await ingestBatch(event);
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    const record = event.Records[i]!;
    // Logged without the record body (a document can be a megabyte).
    getIngestRuntime().logger.warn('message reported for redelivery', {
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      ...errorFields(result.reason),
    });
    batchItemFailures.push({ itemIdentifier: record.messageId });
  });
  return { batchItemFailures };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler(ingestBatchResponse);
