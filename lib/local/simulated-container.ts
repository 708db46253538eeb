/**
 * A simulated Lambda container for load tests and benchmarks: its own pool, pipeline and ingest
 * handler with partial batch responses, as one container of the ingest function would have.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Config } from '../config.ts';
import { Database } from '../db/database.ts';
import { HashEmbedder } from '../embedding/hash.ts';
import { accountedBatch } from '../ingest/batch-response.ts';
import {
  type IngestRuntime,
  processExtractionRecord,
  processIngestRecord,
} from '../ingest/runtime.ts';
import type { Llm } from '../llm/types.ts';
import { createLogger } from '../logger.ts';
import { createPipeline } from '../pipeline/ingest.ts';

/**
 * A Lambda container: its own pool, pipeline, and the ingest and extraction handlers (partial
 * batch responses). `llm` replaces the configured one (a scripted LLM in benchmarks).
 */
export function simulatedContainer(config: Config, options: { llm?: Llm; db?: Database } = {}) {
  const quietLogger = createLogger('silent');
  const db = options.db ?? new Database(config.database, quietLogger);
  const base = { config, db, logger: quietLogger };
  const pipeline = createPipeline(base, {
    embedder: new HashEmbedder(config.vector.dimension),
    ...(options.llm ? { llm: options.llm } : {}),
  });
  const runtime: IngestRuntime = { ...base, pipeline };
  // As the functions do: usage recorded per invocation and added to the aggregates after it.
  const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
    accountedBatch(event, undefined, runtime, config.ingest.concurrency, (r) =>
      processIngestRecord(runtime, r),
    );
  const extractHandler = (event: SQSEvent): Promise<SQSBatchResponse> =>
    accountedBatch(event, undefined, runtime, config.ingest.concurrency, (r) =>
      processExtractionRecord(runtime, r),
    );
  return { db, pipeline, handler, extractHandler };
}
