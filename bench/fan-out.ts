/**
 * 9. One large document's extraction fanned out across containers (lib/pipeline/fan-out.ts),
 * through the real queues (fauxqs) and handlers, with a scripted LLM answering every call after
 * a fixed latency. The same document with 1, 4 and 16 simulated containers consuming the
 * extraction queue (each container: its own pool, one message at a time, GRAPH extraction
 * concurrency 4), then a 2,000-chunk document with the most containers. Time: from the ingest
 * message to `processed`, split into fan-out start, extraction and merge.
 *
 * Time model: start + ⌈batches ÷ containers⌉ × calls per chunk × latency + merge, where a batch
 * is EXTRACTION_BATCH_CHUNKS = 4 chunks extracted at once (= chunks × calls × latency ÷
 * (containers × 4) when the batches divide evenly).
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Database } from '../lib/db/database.ts';
import { startLoopbackFauxqs } from '../lib/local/loopback.ts';
import { simulatedContainer } from '../lib/local/simulated-container.ts';
import { LocalSqsPoller } from '../lib/queue/poller.ts';
import { scriptedLlmEnv, startScriptedLlm } from '../test/support/scripted-llm.ts';
import { createBenchDatabase, quiet } from './lib/env.ts';

export interface FanOutRow {
  chunks: number;
  containers: number;
  llmLatencyMs: number;
  extractionCalls: number;
  batches: number;
  startMs: number;
  extractionMs: number;
  mergeMs: number;
  totalMs: number;
  /** The time model's prediction for extraction alone. */
  modelExtractionMs: number;
}

/** A document of `chunks` paragraphs (one chunk each), every one naming its own entity and one of four hubs. */
function document(chunks: number): string {
  return Array.from(
    { length: chunks },
    (_, i) =>
      `Paragraph ${i}. [[E:Item ${i}|Concept|Item ${i} of the inventory.]] [[R:Item ${i}|Hub ${i % 4}|listed in|Item ${i} is listed in hub ${i % 4}.]]`,
  ).join('\n\n');
}

export async function fanOutScaling(
  runs: ReadonlyArray<{ chunks: number; containers: number }>,
  llmLatencyMs: number,
): Promise<FanOutRow[]> {
  const llm = await startScriptedLlm();
  llm.delayMs = llmLatencyMs;
  const rows: FanOutRow[] = [];
  try {
    for (const run of runs) rows.push(await oneRun(run.chunks, run.containers, llm, llmLatencyMs));
  } finally {
    await llm.close();
  }
  return rows;
}

async function oneRun(
  chunks: number,
  containerCount: number,
  llm: Awaited<ReturnType<typeof startScriptedLlm>>,
  llmLatencyMs: number,
): Promise<FanOutRow> {
  const server = await startLoopbackFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const queue = async (name: string) =>
    (
      await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '900' } }),
      )
    ).QueueUrl!;
  const ingestUrl = await queue('ingest');
  const extractionUrl = await queue('extraction');
  const bench = await createBenchDatabase(`fanout${containerCount}`);
  const config = await bench.config('neon', {
    ...scriptedLlmEnv(llm),
    EMBEDDING_DIM: '64',
    INGEST_QUEUE_URL: ingestUrl,
    EXTRACTION_QUEUE_URL: extractionUrl,
    SQS_ENDPOINT: endpoint,
    AWS_REGION: 'us-east-1',
    CHUNK_SPLIT_BY_CHARACTER: '\\n\\n',
    FANOUT_MIN_CHUNKS: '2',
    EXTRACTION_BATCH_CHUNKS: '4',
    EXTRACTION_CONCURRENCY: '4',
    POSTGRES_MAX_CONNECTIONS: '2',
    ALLOWED_WORKSPACES: '*',
  });
  const containers = Array.from({ length: containerCount }, () =>
    simulatedContainer(config, { db: new Database(config.database, quiet) }),
  );
  const pollers = [
    ...containers.map(
      (c) =>
        new LocalSqsPoller({
          sqs,
          queueUrl: extractionUrl,
          handler: c.extractHandler as never,
          batchSize: 1,
          // Long polling, as Lambda's event source polls: idle pollers cost no CPU.
          waitTimeSeconds: 1,
          failedVisibilitySeconds: 0,
        }),
    ),
  ];
  const ingestPoller = new LocalSqsPoller({
    sqs,
    queueUrl: ingestUrl,
    handler: containers[0]!.handler as never,
    batchSize: 1,
    waitTimeSeconds: 1,
    failedVisibilitySeconds: 0,
  });
  const callsBefore = llm.requests.length;
  try {
    const started = performance.now();
    const first = await containers[0]!.pipeline.ingest({
      content: document(chunks),
      workspace: 'bench',
      filePath: `inventory-${chunks}.md`,
    });
    const startMs = performance.now() - started;
    if (first.status !== 'processing') throw new Error(`not fanned out: ${JSON.stringify(first)}`);
    const s = await containers[0]!.pipeline.storages('bench');
    for (const p of pollers) p.start();
    let extractedAt = 0;
    for (;;) {
      const status = await s.docStatus.getById(first.docId);
      if (!extractedAt) {
        const progress = await s.extractionRuns.progress(first.docId, first.fanOut!.runId);
        if (progress.batchesExtracted === progress.batches) {
          extractedAt = performance.now();
          ingestPoller.start();
        }
      }
      if (status?.status === 'processed') break;
      if (status?.status === 'failed') throw new Error(`failed: ${status.error_msg}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = performance.now();
    const extractionCalls = llm.requests
      .slice(callsBefore)
      .filter((r) => r.kind === 'extract' || r.kind === 'glean').length;
    return {
      chunks,
      containers: containerCount,
      llmLatencyMs,
      extractionCalls,
      batches: first.fanOut!.batches,
      startMs: Math.round(startMs),
      extractionMs: Math.round(extractedAt - started - startMs),
      mergeMs: Math.round(done - extractedAt),
      totalMs: Math.round(done - started),
      // A batch is 4 chunks extracted at once (their calls in sequence: first pass, gleaning);
      // each container takes one batch at a time.
      modelExtractionMs: Math.round(
        Math.ceil(first.fanOut!.batches / containerCount) *
          (extractionCalls / chunks) *
          llmLatencyMs,
      ),
    };
  } finally {
    await Promise.all([...pollers, ingestPoller].map((p) => p.stop()));
    await Promise.all(containers.map((c) => c.db.end().catch(() => undefined)));
    sqs.destroy();
    await server.stop();
  }
}
