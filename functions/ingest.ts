/**
 * SQS-triggered ingest function. Each record is handled on its own (at most INGEST_CONCURRENCY
 * at once); failures are reported per record (`ReportBatchItemFailures`) so the rest commit and
 * only the failed messages come back, then go to the dead-letter queue after the redrive count.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { databaseSecret } from '../lib/aws/database-secret.ts';
import { accountedBatch } from '../lib/ingest/batch-response.ts';
import { getIngestRuntime, processIngestRecord } from '../lib/ingest/runtime.ts';

/** The records that failed, for SQS to deliver again; the others are deleted from the queue. */
export async function ingestBatchResponse(
  event: SQSEvent,
  context?: Pick<Context, 'awsRequestId'> & Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
): Promise<SQSBatchResponse> {
  const rt = getIngestRuntime();
  return accountedBatch(event, context, rt, rt.config.ingest.concurrency, (record) =>
    processIngestRecord(rt, record, context),
  );
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(databaseSecret())
  .handler(ingestBatchResponse);
