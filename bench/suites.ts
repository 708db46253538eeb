/**
 * The benchmarks. Each returns plain data; bench/run.ts measures them side by side in one run
 * and writes the report.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import pgvector from 'pgvector';
import type { Config } from '../lib/config.ts';
import { Database } from '../lib/db/database.ts';
import { packageService, sqsRecord, startContainer } from '../lib/deploy/lambda-sandbox.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import { simulatedContainer } from '../lib/local/simulated-container.ts';
import { IngestQueueClient } from '../lib/queue/enqueue.ts';
import { LocalSqsPoller } from '../lib/queue/poller.ts';
import { ensureSchema } from '../lib/storage/schema.ts';
import { VectorStorage } from '../lib/storage/vector.ts';
import { startFakeSecretsManager } from '../test/support/secrets-manager.ts';
import { createBenchDatabase, getBridge, quiet } from './lib/env.ts';
import { clusteredVectors, round, summary, timed } from './lib/stats.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** 1. Per-invocation connection overhead: warm module-scope pool vs a new pool per invocation. */
export async function connectionOverhead(invocations: number) {
  const bdb = await createBenchDatabase('conn');
  const rows: Array<{ driver: string; mode: string; p50: number; p95: number; n: number }> = [];
  for (const driver of ['neon', 'pg'] as const) {
    const config = await bdb.config(driver);
    const warm = new Database(config.database, quiet);
    await warm.query('SELECT 1'); // the cold start, not measured
    const warmSamples: number[] = [];
    const coldSamples: number[] = [];
    for (let i = 0; i < invocations; i++) {
      warmSamples.push((await timed(() => warm.query('SELECT 1'))).ms);
      coldSamples.push(
        (
          await timed(async () => {
            const db = new Database(config.database, quiet);
            await db.query('SELECT 1');
            await db.end();
          })
        ).ms,
      );
    }
    await warm.end();
    rows.push({ driver, mode: 'warm (module-scope pool)', ...pick(summary(warmSamples)) });
    rows.push({
      driver,
      mode: 'per-invocation pool (seed "before")',
      ...pick(summary(coldSamples)),
    });
  }
  return rows;
}
const pick = (s: ReturnType<typeof summary>) => ({ p50: s.p50, p95: s.p95, n: s.n });

interface IngestRun {
  implementation: string;
  index: 'none' | 'hnsw';
  vectors: number;
  seconds: number;
  perSecond: number;
  roundTripsPer1000: number | null;
}

/** Counts statements sent by node-postgres clients (the peers' round trips). */
function countPgQueries(): { count: () => number; restore: () => void } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let n = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    n += 1;
    return original.apply(this, args);
  };
  return { count: () => n, restore: () => (proto.query = original) };
}

/** 2. Vector ingest throughput: this project, LangChain.js, LlamaIndex.TS and COPY, same data. */
export async function vectorIngest(
  count: number,
  dim: number,
  batch: number,
): Promise<IngestRun[]> {
  const vectors = clusteredVectors(count, dim, 11);
  const contents = vectors.map((_, i) => `chunk ${i} of the ingest benchmark`);
  const runs: IngestRun[] = [];
  for (const index of ['none', 'hnsw'] as const) {
    // This project, through the production Neon driver and through plain pg.
    for (const driver of ['neon', 'pg'] as const) {
      const bdb = await createBenchDatabase(`ours_${driver}_${index}`);
      const config = await bdb.config(driver, {
        EMBEDDING_DIM: String(dim),
        POSTGRES_VECTOR_INDEX_TYPE: index === 'hnsw' ? 'HNSW' : 'NONE',
      });
      const db = new Database(config.database, quiet);
      await ensureSchema(db, config.vector);
      const store = new VectorStorage(db, 'chunks', config.vector, new HashEmbedder(dim), 'bench');
      const before = db.stats().queries;
      const { ms } = await timed(async () => {
        for (let i = 0; i < count; i += batch) {
          await store.upsert(
            vectors.slice(i, i + batch).map((vector, j) => ({
              id: `chunk-${i + j}`,
              content: contents[i + j]!,
              full_doc_id: `doc-${Math.floor((i + j) / 10)}`,
              chunk_order_index: (i + j) % 10,
              tokens: 8,
              vector,
            })),
          );
        }
      });
      runs.push(
        result(
          `lightrag-serverless (${driver} driver)`,
          index,
          count,
          ms,
          ((db.stats().queries - before) / count) * 1000,
        ),
      );
      await db.end();
    }
    // LangChain.js PGVectorStore (@langchain/community).
    {
      const bdb = await createBenchDatabase(`langchain_${index}`);
      const { PGVectorStore } = await import('@langchain/community/vectorstores/pgvector');
      const { Document } = await import('@langchain/core/documents');
      const pool = new pg.Pool({ connectionString: bdb.url, max: 2 });
      const embeddings = { embedDocuments: async () => [], embedQuery: async () => [] };
      const store = await PGVectorStore.initialize(embeddings as never, {
        pool,
        tableName: 'langchain_vectors',
        dimensions: dim,
      });
      if (index === 'hnsw') {
        await pool.query(
          'CREATE INDEX ON langchain_vectors USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
        );
      }
      const counter = countPgQueries();
      const { ms } = await timed(async () => {
        for (let i = 0; i < count; i += batch) {
          await store.addVectors(
            vectors.slice(i, i + batch),
            contents
              .slice(i, i + batch)
              .map((pageContent, j) => new Document({ pageContent, metadata: { n: i + j } })),
          );
        }
      });
      counter.restore();
      runs.push(
        result('LangChain.js PGVectorStore', index, count, ms, (counter.count() / count) * 1000),
      );
      await store.end();
    }
    // LlamaIndex.TS PGVectorStore (@llamaindex/postgres).
    try {
      const bdb = await createBenchDatabase(`llamaindex_${index}`);
      const { PGVectorStore } = await import('@llamaindex/postgres');
      const { TextNode } = await import('@llamaindex/core/schema');
      // Vectors are given; the embedding model is never called, but the store insists on one.
      const embedModel = {
        getTextEmbeddings: async () => [],
        getTextEmbedding: async () => [],
        getQueryEmbedding: async () => [],
      };
      const store = new PGVectorStore({
        clientConfig: { connectionString: bdb.url },
        dimensions: dim,
        tableName: 'llamaindex_vectors',
        embedModel: embedModel as never,
      });
      await store.client(); // connects and creates its table
      if (index === 'hnsw') {
        const c = new pg.Client({ connectionString: bdb.url });
        await c.connect();
        await c.query(
          'CREATE INDEX ON public.llamaindex_vectors USING hnsw (embeddings vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
        );
        await c.end();
      }
      const counter = countPgQueries();
      const { ms } = await timed(async () => {
        for (let i = 0; i < count; i += batch) {
          await store.add(
            vectors
              .slice(i, i + batch)
              .map(
                (embedding, j) =>
                  new TextNode({ id_: randomUUID(), text: contents[i + j]!, embedding }),
              ),
          );
        }
      });
      counter.restore();
      runs.push(
        result('LlamaIndex.TS PGVectorStore', index, count, ms, (counter.count() / count) * 1000),
      );
      await ((await store.client()) as unknown as { close: () => Promise<void> }).close();
    } catch (err) {
      runs.push({
        implementation: `LlamaIndex.TS PGVectorStore (failed: ${(err as Error).message.slice(0, 80)})`,
        index,
        vectors: count,
        seconds: Number.NaN,
        perSecond: 0,
        roundTripsPer1000: null,
      });
    }
    // COPY into the same table shape: the physical upper bound.
    {
      const bdb = await createBenchDatabase(`copy_${index}`);
      const config = await bdb.config('pg', {
        EMBEDDING_DIM: String(dim),
        POSTGRES_VECTOR_INDEX_TYPE: index === 'hnsw' ? 'HNSW' : 'NONE',
      });
      const db = new Database(config.database, quiet);
      await ensureSchema(db, config.vector);
      await db.end();
      const client = new pg.Client({ connectionString: bdb.url });
      await client.connect();
      const { ms } = await timed(async () => {
        const stream = client.query(
          copyFrom(
            'COPY lightrag_vdb_chunks (workspace, id, content, full_doc_id, chunk_order_index, tokens, content_vector) FROM STDIN',
          ),
        );
        const lines = (function* () {
          for (let i = 0; i < count; i++) {
            yield `bench\tchunk-${i}\t${contents[i]}\tdoc-${Math.floor(i / 10)}\t${i % 10}\t8\t${pgvector.toSql(vectors[i]!)}\n`;
          }
        })();
        await streamPipeline(Readable.from(lines), stream);
      });
      await client.end();
      runs.push(result('COPY (physical bound)', index, count, ms, 1000 / count));
    }
  }
  return runs;
}

function result(
  implementation: string,
  index: 'none' | 'hnsw',
  count: number,
  ms: number,
  roundTripsPer1000: number,
): IngestRun {
  return {
    implementation,
    index,
    vectors: count,
    seconds: round(ms / 1000, 2),
    perSecond: Math.round(count / (ms / 1000)),
    roundTripsPer1000: round(roundTripsPer1000, 1),
  };
}

/** 3. Query latency and recall@10: HNSW against exact search, through the Neon driver. */
export async function queryLatency(sizes: number[], dim: number, queries: number) {
  const rows: Array<Record<string, unknown>> = [];
  for (const size of sizes) {
    const bdb = await createBenchDatabase(`query_${size}`);
    const base = await bdb.config('neon', {
      EMBEDDING_DIM: String(dim),
      POSTGRES_VECTOR_INDEX_TYPE: 'NONE',
      COSINE_THRESHOLD: '-1',
    });
    const setup = new Database(base.database, quiet);
    await ensureSchema(setup, base.vector);
    await setup.end();
    // Probes come from the same distribution as the data (same centres), and are not stored.
    const all = clusteredVectors(size + queries, dim, 21);
    const data = all.slice(0, size);
    const client = new pg.Client({ connectionString: bdb.url });
    await client.connect();
    const stream = client.query(
      copyFrom('COPY lightrag_vdb_chunks (workspace, id, content, content_vector) FROM STDIN'),
    );
    await streamPipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < size; i++)
            yield `bench\tv-${i}\tvector ${i}\t${pgvector.toSql(data[i]!)}\n`;
        })(),
      ),
      stream,
    );
    const build = await timed(async () => {
      await client.query("SET maintenance_work_mem = '1GB'");
      await client.query(
        'CREATE INDEX idx_lightrag_vdb_chunks_hnsw_cosine ON lightrag_vdb_chunks USING hnsw (content_vector vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
      );
      await client.query('ANALYZE lightrag_vdb_chunks');
    });
    await client.end();
    const probes = all.slice(size);
    const exactDb = new Database(base.database, quiet);
    const exact: string[][] = [];
    for (const q of probes) {
      exact.push(
        await exactDb.withTransaction(async (tx) => {
          await tx.query('SET LOCAL enable_indexscan = off');
          const { rows: r } = await tx.query<{ id: string }>(
            'SELECT id FROM lightrag_vdb_chunks WHERE workspace = $1 ORDER BY content_vector <=> $2::vector LIMIT 10',
            ['bench', pgvector.toSql(q)],
          );
          return r.map((x) => x.id);
        }),
      );
    }
    await exactDb.end();
    for (const efSearch of [undefined, 100]) {
      const config = await bdb.config('neon', {
        EMBEDDING_DIM: String(dim),
        POSTGRES_VECTOR_INDEX_TYPE: 'HNSW',
        COSINE_THRESHOLD: '-1',
        ...(efSearch ? { POSTGRES_HNSW_EF_SEARCH: String(efSearch) } : {}),
      });
      const db = new Database(config.database, quiet);
      const store = new VectorStorage(db, 'chunks', config.vector, new HashEmbedder(dim), 'bench');
      await store.queryByVector(probes[0]!, 10); // warm
      const samples: number[] = [];
      let hits = 0;
      for (const [i, q] of probes.entries()) {
        const { ms, value } = await timed(() => store.queryByVector(q, 10));
        samples.push(ms);
        const truth = new Set(exact[i]);
        hits += value.filter((m) => truth.has(m.id)).length;
      }
      const plan = await store.explain(probes[0]!, 10);
      await db.end();
      const s = summary(samples);
      rows.push({
        vectors: size,
        dim,
        search: efSearch ? `HNSW ef_search ${efSearch}` : 'HNSW ef_search 40 (default)',
        p50: s.p50,
        p95: s.p95,
        p99: s.p99,
        recallAt10: round(hits / (probes.length * 10), 3),
        indexUsed: /Index Scan using/.test(plan),
        indexBuildSeconds: round(build.ms / 1000, 1),
      });
    }
    // Exact search latency for reference.
    const db = new Database(base.database, quiet);
    const samples: number[] = [];
    for (const q of probes) {
      samples.push(
        (
          await timed(() =>
            db.withTransaction(async (tx) => {
              await tx.query('SET LOCAL enable_indexscan = off');
              await tx.query(
                'SELECT id FROM lightrag_vdb_chunks WHERE workspace = $1 ORDER BY content_vector <=> $2::vector LIMIT 10',
                ['bench', pgvector.toSql(q)],
              );
            }),
          )
        ).ms,
      );
    }
    await db.end();
    const s = summary(samples);
    rows.push({
      vectors: size,
      dim,
      search: 'exact (sequential scan)',
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      recallAt10: 1,
      indexUsed: false,
      indexBuildSeconds: null,
    });
  }
  return rows;
}

/**
 * 4. Cold start, as deployed: each function's zip run by lib/deploy/lambda-sandbox.ts (only its
 * own layers at /opt): module initialisation, then the first `POST /query` of a fresh query
 * container (naive and mix mode, which load the tokenizer) with its latency and RSS.
 */
export async function coldStart(samplesPerFunction: number) {
  const outDir = mkdtempSync(join(tmpdir(), 'lrs-bench-package-'));
  const { functions } = await packageService(outDir, { stage: 'bench' });
  const bdb = await createBenchDatabase('cold');
  const env: Record<string, string> = {
    DATABASE_URL: bdb.url,
    DATABASE_DRIVER: 'neon',
    NEON_WS_PROXY: (await getBridge()).address,
    EMBEDDING_PROVIDER: 'hash',
    EMBEDDING_DIM: '384',
    LLM_PROVIDER: 'none',
    LOG_LEVEL: 'warn',
  };
  const rows: Array<{
    function: string;
    zipBytes: number;
    initMsMedian: number;
    initMsMax: number;
    initRssMb: number;
  }> = [];
  for (const name of ['ingest', 'query', 'documents', 'health']) {
    const times: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < samplesPerFunction; i++) {
      const container = await startContainer(functions[name]!, { env });
      times.push(container.init.ms);
      rss.push(container.init.rss);
      await container.close();
    }
    const s = summary(times);
    rows.push({
      function: name,
      zipBytes: statSync(functions[name]!.zip).size,
      initMsMedian: s.p50,
      initMsMax: Math.max(...times.map((t) => round(t))),
      initRssMb: round(Math.max(...rss) / 2 ** 20),
    });
  }
  // Documents to retrieve from, through the ingest function's own zip.
  const ingest = await startContainer(functions.ingest!, { env });
  const text = (i: number) =>
    `Report ${i}. `.concat(
      'The committee reviewed budgets, timelines and risks in detail. '.repeat(60),
    );
  const seeded = await ingest.invoke({
    Records: Array.from({ length: 10 }, (_, i) =>
      sqsRecord(`m${i}`, JSON.stringify({ content: text(i), filePath: `report-${i}.md` })),
    ),
  });
  await ingest.close();
  if (!seeded.ok || seeded.result.batchItemFailures.length > 0)
    throw new Error(`seeding failed: ${JSON.stringify(seeded)}`);
  const firstQuery: Array<{
    mode: string;
    initMs: number;
    firstQueryMs: number;
    coldTotalMs: number;
    warmQueryMs: number;
    rssMb: number;
  }> = [];
  for (const mode of ['naive', 'mix']) {
    for (let i = 0; i < samplesPerFunction; i++) {
      const container = await startContainer(functions.query!, { env });
      const event = queryEvent({
        query: 'What did the committee review?',
        mode,
        ...(mode === 'mix' ? { hl_keywords: ['risks'], ll_keywords: ['committee'] } : {}),
      });
      const first = await container.invoke(event);
      const status = (first.result as { statusCode?: number } | undefined)?.statusCode;
      if (!first.ok || status !== 200)
        throw new Error(
          `first query (${mode}) failed: ${JSON.stringify(first)}\n${container.logs()}`,
        );
      const warm = await container.invoke(event);
      await container.close();
      firstQuery.push({
        mode,
        initMs: round(container.init.ms),
        firstQueryMs: round(first.ms),
        coldTotalMs: round(container.init.ms + first.ms),
        warmQueryMs: round(warm.ms),
        rssMb: round(first.rss / 2 ** 20),
      });
    }
  }
  // The database secret at cold start (lib/aws/database-secret.ts): the health function's first
  // invocation with the URL in its environment, and with only the secret's name (fetched from a
  // Secrets Manager double on loopback: SDK import, client, signed request, parse).
  const secretsManager = await startFakeSecretsManager({ 'bench/database-url': bdb.url });
  const healthEvent = {
    ...queryEvent({}),
    routeKey: 'GET /health',
    rawPath: '/health',
    requestContext: { http: { method: 'GET', path: '/health' }, requestId: randomUUID() },
    body: undefined,
  };
  const firstHealth = async (containerEnv: Record<string, string>) => {
    const times: number[] = [];
    for (let i = 0; i < samplesPerFunction; i++) {
      const container = await startContainer(functions.health!, { env: containerEnv });
      const out = await container.invoke(healthEvent);
      await container.close();
      if ((out.result as { statusCode?: number } | undefined)?.statusCode !== 200)
        throw new Error(`health failed: ${JSON.stringify(out)}`);
      times.push(container.init.ms + out.ms);
    }
    return summary(times).p50;
  };
  const { DATABASE_URL: _url, ...withoutUrl } = env;
  const urlMs = await firstHealth(env);
  const secretMs = await firstHealth({
    ...withoutUrl,
    DATABASE_SECRET_ID: 'bench/database-url',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  });
  await secretsManager.close();
  const secret = { urlMs, secretMs, costMs: round(secretMs - urlMs) };
  return { functions: rows, firstQuery, secret };
}

function queryEvent(body: Record<string, unknown>) {
  return {
    version: '2.0',
    routeKey: 'POST /query',
    rawPath: '/query',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/query' }, requestId: randomUUID() },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** 5. End to end: documents per second through the local queue, the ingest handler and the database. */
export async function endToEnd(
  documents: number,
  containers: number,
  config: Config,
  queue: {
    sqs: import('@aws-sdk/client-sqs').SQSClient;
    url: string;
    depth: () => Promise<number>;
  },
) {
  const sims = Array.from({ length: containers }, () => simulatedContainer(config));
  const pollers = sims.map(
    (c) =>
      new LocalSqsPoller({
        sqs: queue.sqs,
        queueUrl: queue.url,
        handler: c.handler,
        failedVisibilitySeconds: 0,
      }),
  );
  const client = new IngestQueueClient({
    sqs: queue.sqs,
    queueUrl: queue.url,
    maxMessageBytes: 1 << 20,
    maxDocumentBytes: 1 << 22,
  });
  const docs = Array.from({ length: documents }, (_, i) => ({
    content: Array.from(
      { length: 40 },
      (_, j) => `Document ${i} sentence ${j} about queues, vectors and pools.`,
    ).join(' '),
  }));
  await client.enqueue(docs);
  const { ms } = await timed(async () => {
    for (const p of pollers) p.start();
    while ((await queue.depth()) > 0) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(pollers.map((p) => p.stop()));
  });
  const { rows } = await sims[0]!.db.query<{ n: number; chunks: number }>(
    "SELECT count(*)::int AS n, coalesce(sum(chunks_count), 0)::int AS chunks FROM lightrag_doc_status WHERE status = 'processed'",
  );
  await Promise.all(sims.map((s) => s.db.end()));
  return {
    documents,
    containers,
    processed: rows[0]!.n,
    chunks: rows[0]!.chunks,
    seconds: round(ms / 1000, 2),
    docsPerSecond: round(rows[0]!.n / (ms / 1000), 1),
    chunksPerSecond: round(rows[0]!.chunks / (ms / 1000), 1),
    failedDeliveries: pollers.reduce((n, p) => n + p.stats.failed, 0),
  };
}
