/**
 * SQS-triggered ingest function. Each record is handled on its own (at most INGEST_CONCURRENCY
 * at once); failures are reported per record (`ReportBatchItemFailures`) so the rest commit and
 * only the failed messages come back, then go to the dead-letter queue after the redrive count.
 */
import { queueFunction } from '../lib/handler.ts';
import { getIngestRuntime, processIngestRecord } from '../lib/ingest/runtime.ts';

export const handler = queueFunction(
  getIngestRuntime,
  (rt) => rt.config.ingest.concurrency,
  (rt, record, context) => processIngestRecord(rt, record, context),
);
