/**
 * A simulated Lambda container for load tests and benchmarks: its own pool, pipeline and ingest
 * handler with partial batch responses, as one container of the ingest function would have.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { settleWithConcurrency } from '../concurrency.ts';
import type { Config } from '../config.ts';
import { Database } from '../db/database.ts';
import { HashEmbedder } from '../embedding/hash.ts';
import { processIngestRecord } from '../ingest/runtime.ts';
import { createLlm } from '../llm/index.ts';
import { createLogger } from '../logger.ts';
import { IngestPipeline } from '../pipeline/ingest.ts';

/** A Lambda container: its own pool, pipeline and ingest handler (partial batch responses). */
export function simulatedContainer(config: Config) {
  const quietLogger = createLogger('silent');
  const db = new Database(config.database, quietLogger);
  const pipeline = new IngestPipeline(
    db,
    config,
    new HashEmbedder(config.vector.dimension),
    quietLogger,
    createLlm(config.llm, quietLogger),
  );
  const runtime = { config, pipeline, logger: quietLogger };
  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const settled = await settleWithConcurrency(event.Records, config.ingest.concurrency, (r) =>
      processIngestRecord(runtime, r),
    );
    return {
      batchItemFailures: settled.flatMap((s, i) =>
        s.status === 'rejected' ? [{ itemIdentifier: event.Records[i]!.messageId }] : [],
      ),
    };
  };
  return { db, pipeline, handler };
}
