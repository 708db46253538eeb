/**
 * A simulated Lambda container for load tests and benchmarks: its own pool, pipeline and ingest
 * handler with partial batch responses, as one container of the ingest function would have.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import type { Config } from '../config.ts';
import { Database } from '../db/database.ts';
import { HashEmbedder } from '../embedding/hash.ts';
import { queueFunction } from '../handler.ts';
import {
  type IngestRuntime,
  ingestRuntime,
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
  const runtime: IngestRuntime = ingestRuntime(base, pipeline);
  // As the functions are composed (lib/handler.ts): usage and metrics settled per invocation.
  const ingest = queueFunction(
    () => runtime,
    () => config.ingest.concurrency,
    (rt, record) => processIngestRecord(rt, record),
  );
  const extract = queueFunction(
    () => runtime,
    () => config.ingest.concurrency,
    (rt, record) => processExtractionRecord(rt, record),
  );
  const invoke = (fn: typeof ingest) => (event: SQSEvent) =>
    fn(event, { awsRequestId: randomUUID() } as Context);
  const handler = invoke(ingest);
  const extractHandler = invoke(extract);
  return { db, pipeline, handler, extractHandler };
}
