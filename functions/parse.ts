/**
 * SQS-triggered parse function: S3 reports each upload to the uploads queue; the file is read,
 * turned into text (PDF, DOCX, PPTX, XLSX, HTML, Markdown, text) and its document sent to the
 * ingest queue. The parsers live in this function's bundle only.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { databaseSecret } from '../lib/aws/database-secret.ts';
import { accountedBatch } from '../lib/ingest/batch-response.ts';
import { getUploadRuntime, processUploadRecord } from '../lib/uploads/runtime.ts';

/** The records that failed, for SQS to deliver again. */
export async function parseBatchResponse(
  event: SQSEvent,
  context?: Pick<Context, 'awsRequestId'>,
): Promise<SQSBatchResponse> {
  const rt = getUploadRuntime();
  // One file at a time: a parsed PDF can take hundreds of megabytes.
  return accountedBatch(event, context, rt, 1, (record) => processUploadRecord(rt, record));
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(databaseSecret())
  .handler(parseBatchResponse);
