/**
 * SQS-triggered extraction function: each record is one chunk batch of a document fanned out
 * across containers (lib/pipeline/fan-out.ts). Same runtime as the ingest function; its own
 * event source, so its concurrency is set on its own.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { batchResponse } from '../lib/ingest/batch-response.ts';
import { getIngestRuntime, processExtractionRecord } from '../lib/ingest/runtime.ts';
import { accounted } from '../lib/ops/invocation.ts';

/** The batches that failed, for SQS to deliver again. */
export async function extractBatchResponse(
  event: SQSEvent,
  context?: Pick<Context, 'awsRequestId'>,
): Promise<SQSBatchResponse> {
  const rt = getIngestRuntime();
  return accounted(rt.db, rt.logger, () =>
    batchResponse(
      event,
      rt.config.ingest.concurrency,
      rt.logger,
      (record) => processExtractionRecord(rt, record),
      context?.awsRequestId,
    ),
  );
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler(extractBatchResponse);
