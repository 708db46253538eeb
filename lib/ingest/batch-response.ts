/**
 * SQS partial batch responses: each record handled on its own (bounded concurrency), the ones
 * that failed reported in `batchItemFailures` so only they come back. Built here because
 * @middy/sqs-partial-batch-failure has no release for middy 7.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { settleWithConcurrency } from '../concurrency.ts';
import { errorFields, type Logger, withLogContext } from '../logger.ts';

/**
 * @example
 * ```ts
 * export const handler = (event: SQSEvent) => batchResponse(event, 2, logger, (r) => handle(r));
 * ```
 */
export async function batchResponse(
  event: SQSEvent,
  concurrency: number,
  logger: Logger,
  handle: (record: SQSRecord) => Promise<unknown>,
  requestId?: string,
): Promise<SQSBatchResponse> {
  // Every line logged for a record carries the invocation's request id and the message id.
  const settled = await settleWithConcurrency(event.Records, concurrency, (record) =>
    withLogContext({ ...(requestId ? { requestId } : {}), messageId: record.messageId }, () =>
      handle(record),
    ),
  );
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    const record = event.Records[i]!;
    // Logged without the record body (a document can be a megabyte).
    logger.warn('message reported for redelivery', {
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      ...errorFields(result.reason),
    });
    batchItemFailures.push({ itemIdentifier: record.messageId });
  });
  return { batchItemFailures };
}
