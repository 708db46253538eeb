/**
 * SQS-triggered extraction function: each record is one chunk batch of a document fanned out
 * across containers (lib/pipeline/fan-out.ts). Same runtime as the ingest function; its own
 * event source, so its concurrency is set on its own.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { databaseSecret } from '../lib/aws/database-secret.ts';
import { accountedBatch } from '../lib/ingest/batch-response.ts';
import { getIngestRuntime, processExtractionRecord } from '../lib/ingest/runtime.ts';

/** The batches that failed, for SQS to deliver again. */
export async function extractBatchResponse(
  event: SQSEvent,
  context?: Pick<Context, 'awsRequestId'>,
): Promise<SQSBatchResponse> {
  const rt = getIngestRuntime();
  return accountedBatch(event, context, rt, rt.config.ingest.concurrency, (record) =>
    processExtractionRecord(rt, record),
  );
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(databaseSecret())
  .handler(extractBatchResponse);
