/**
 * SQS-triggered extraction function: each record is one chunk batch of a document fanned out
 * across containers (lib/pipeline/fan-out.ts). Same runtime as the ingest function; its own
 * event source, so its concurrency is set on its own.
 */
import { queueFunction } from '../lib/handler.ts';
import { getIngestRuntime, processExtractionRecord } from '../lib/ingest/runtime.ts';

export const handler = queueFunction(
  getIngestRuntime,
  (rt) => rt.config.ingest.concurrency,
  (rt, record) => processExtractionRecord(rt, record),
);
