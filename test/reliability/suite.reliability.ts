/**
 * The reliability suite (`npm run test:reliability`, run by CI against the real PostgreSQL):
 * faults, load and hostile input, with every message accounted for. It writes the results
 * table to docs/RELIABILITY.md, which the README links to.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { handler as documentsHandler } from '../../functions/documents.ts';
import { handler as healthHandler, healthRoute } from '../../functions/health.ts';
import { handler as ingestHandler } from '../../functions/ingest.ts';
import { handler as parseHandler } from '../../functions/parse.ts';
import { handler as queryHandler } from '../../functions/query.ts';
import { type Config, loadConfig } from '../../lib/config.ts';
import { closeDatabase, getDatabase } from '../../lib/db/container.ts';
import { Database } from '../../lib/db/database.ts';
import { startWsBridge } from '../../lib/db/ws-bridge.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { DatabaseUnavailableError } from '../../lib/errors.ts';
import { documentIdFor } from '../../lib/ids.ts';
import { simulatedContainer } from '../../lib/local/simulated-container.ts';
import { createLogger } from '../../lib/logger.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { IngestQueueClient } from '../../lib/queue/enqueue.ts';
import { encodeS3ObjectCreated as objectCreatedEvent } from '../../lib/queue/messages.ts';
import { LocalSqsPoller } from '../../lib/queue/poller.ts';
import { applySchema, ensureSchema } from '../../lib/storage/schema.ts';
import { documentId } from '../../lib/text.ts';
import { UploadRequests } from '../../lib/uploads/request.ts';
import { call, type Handler } from '../support/api-event.ts';
import {
  adminDatabase,
  createTestDatabase,
  NEEDS_SERVER,
  quietLogger,
  type TestDatabase,
} from '../support/database.ts';
import {
  docxEmptyParagraphs,
  htmlDeeplyNested,
  htmlSpanBomb,
  pdfDoubleDeflated,
  pdfSharedHeavyStream,
  xlsxSharedStringBomb,
} from '../support/hostile-files.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';
import { bodyText, Report, snapshot } from './support.ts';

const run = promisify(execFile);
const REPORT_PATH = fileURLToPath(new URL('../../docs/RELIABILITY.md', import.meta.url));
const CASES = JSON.parse(
  readFileSync(new URL('./hostile-cases.json', import.meta.url), 'utf8'),
) as Array<{
  id: string;
  via: string;
  name: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathId?: string;
  expect: {
    status?: number;
    code?: string | null;
    final?: string;
    stored?: string;
    filePath?: string;
    metadataKey?: string;
    outcome?: string;
  };
}>;

const report = new Report();
const HOSTILE_BUCKET = 'reliability-uploads';

describe('reliability suite', { skip: NEEDS_SERVER }, () => {
  let target: TestDatabase;
  let queues: TestQueues;
  let config: Config;
  let poller: LocalSqsPoller;
  const savedEnv = { ...process.env };

  before(async () => {
    queues = await startTestQueues({ name: 'reliability', maxReceiveCount: 3 });
    target = await createTestDatabase({
      EMBEDDING_PROVIDER: 'hash',
      EMBEDDING_DIM: '32',
      CHUNK_SIZE: '200',
      CHUNK_OVERLAP_SIZE: '20',
      MAX_DOCUMENT_BYTES: '204800',
      ALLOWED_WORKSPACES: 'default,other,ws_a,ws_b,ws_c',
      INGEST_QUEUE_URL: queues.queueUrl,
      SQS_ENDPOINT: queues.endpoint,
      AWS_REGION: 'us-east-1',
      INGEST_MAX_RECEIVE_COUNT: '3',
      POSTGRES_MAX_CONNECTIONS: '2',
      POSTGRES_QUERY_TIMEOUT_MS: '5000',
      POSTGRES_CONNECT_TIMEOUT_MS: '3000',
      UPLOAD_BUCKET: HOSTILE_BUCKET,
      S3_ENDPOINT: queues.endpoint,
      PARSE_TIMEOUT_MS: '20000',
    });
    Object.assign(process.env, target.env);
    config = loadConfig(process.env);
    poller = new LocalSqsPoller({
      sqs: queues.sqs,
      queueUrl: queues.queueUrl,
      handler: ingestHandler,
      failedVisibilitySeconds: 0,
    });
    await ensureSchema(getDatabase(), config.vector);
  });

  after(async () => {
    const text = report.write(
      REPORT_PATH,
      `Run ${new Date().toISOString().slice(0, 10)} against PostgreSQL through the Neon driver and a loopback WebSocket bridge, ` +
        'with fauxqs as SQS (redrive after 3 receives) and the real handlers.',
    );
    console.log(text);
    await closeDatabase();
    await queues.stop();
    process.env = savedEnv;
  });

  async function drain(p: LocalSqsPoller = poller, maxPolls = 200): Promise<void> {
    for (let i = 0; i < maxPolls; i++) {
      if ((await queues.depth(queues.queueUrl)) === 0) return;
      await p.pollOnce();
    }
    assert.fail('the queue did not drain');
  }

  async function statuses(docIds: string[], workspace = 'default') {
    const { rows } = await getDatabase().query<{
      id: string;
      status: string;
      error_msg: string | null;
    }>(
      'SELECT id, status, error_msg FROM lightrag_doc_status WHERE workspace = $1 AND id = ANY($2::text[])',
      [workspace, docIds],
    );
    return rows;
  }

  async function account(
    scenario: string,
    inputs: string,
    sent: number,
    docIds: string[],
    outcome: string,
    workspace = 'default',
  ) {
    const rows = await statuses(docIds, workspace);
    const processed = rows.filter((r) => r.status === 'processed').length;
    const failed = rows.filter((r) => r.status === 'failed' && r.error_msg).length;
    const dlqBodies = await queues.dlqBodies();
    await queues.purge();
    // A message given up on is both a failed status (with the reason) and a DLQ entry: count it once.
    const dlqOnly = dlqBodies.filter((b) => {
      try {
        const m = JSON.parse(b);
        const id = documentIdFor(m.content ?? '', m.filePath, '1.5');
        return !rows.some((r) => r.id === id && r.status === 'failed');
      } catch {
        return true;
      }
    }).length;
    report.add({ scenario, inputs, outcome, sent, processed, failed, dlq: dlqOnly });
    assert.equal(
      processed + failed + dlqOnly,
      sent,
      `${scenario}: processed ${processed} + failed ${failed} + DLQ ${dlqOnly} != sent ${sent}`,
    );
  }

  describe('hostile input', () => {
    it(`answers each of ${CASES.length} hostile inputs clearly and changes nothing else`, async () => {
      assert.ok(CASES.length >= 100);
      const db = getDatabase();
      const accepted: Array<(typeof CASES)[number] & { docId: string }> = [];
      const viaSqs: typeof CASES = [];
      for (const c of CASES) {
        if (c.via === 'sqs') {
          viaSqs.push(c);
          continue;
        }
        const before = await snapshot(db);
        const rawBody = c.rawBody ?? (c.body === undefined ? undefined : bodyText(c.body));
        const options = {
          rawBody,
          headers: c.headers,
          query: c.query,
          pathParameters: c.pathId ? { id: c.pathId } : undefined,
        };
        const res =
          c.via === 'query'
            ? await call(queryHandler as Handler, 'POST /query', options)
            : c.via === 'documents'
              ? await call(documentsHandler as Handler, 'POST /documents', options)
              : c.via === 'get'
                ? await call(documentsHandler as Handler, 'GET /documents/{id}', options)
                : c.via === 'list'
                  ? await call(documentsHandler as Handler, 'GET /documents', options)
                  : await call(documentsHandler as Handler, 'DELETE /documents/{id}', options);
        const outcome = `${res.statusCode}${res.json?.error ? ` ${res.json.error.code}` : ''}`;
        report.hostile.push({
          id: c.id,
          via: c.via,
          name: c.name,
          expected: `${c.expect.status}${c.expect.code ? ` ${c.expect.code}` : ''}${c.expect.final ? ` → ${c.expect.final}` : ''}`,
          outcome,
        });
        assert.equal(
          res.statusCode,
          c.expect.status,
          `${c.id} ${c.name}: ${res.body?.slice(0, 200)}`,
        );
        if (c.expect.code) {
          assert.equal(res.json.error.code, c.expect.code, `${c.id} ${c.name}`);
          assert.ok(
            res.json.error.message.length > 10,
            `${c.id}: a message that says what is wrong`,
          );
        }
        // The graph modes echo the question as keywords: the caller's own words are not a leak.
        const asked = (c.body as { query?: unknown } | undefined)?.query;
        const own = typeof asked === 'string' ? JSON.stringify(asked).slice(1, -1) : '';
        assert.doesNotMatch(
          own ? (res.body ?? '').split(own).join('') : (res.body ?? ''),
          /\.ts:\d+|at async|SELECT .* FROM/,
          `${c.id}: no stack or SQL in the response`,
        );
        if (c.expect.final) accepted.push({ ...c, docId: res.json.documents[0].docId });
        else assert.equal(await snapshot(db), before, `${c.id} ${c.name}: the database changed`);
      }
      // Accepted hostile-but-valid documents: stored verbatim (as data), processed.
      await drain();
      for (const c of accepted) {
        const doc = await call(documentsHandler as Handler, 'GET /documents/{id}', {
          pathParameters: { id: c.docId },
        });
        assert.equal(doc.json.status, c.expect.final, `${c.id} ${c.name}`);
        const full = await db.query<{
          content: string;
          doc_name: string | null;
          meta: Record<string, unknown>;
        }>(
          "SELECT content, doc_name, meta FROM lightrag_doc_full WHERE workspace = 'default' AND id = $1",
          [c.docId],
        );
        if (c.expect.stored) assert.equal(full.rows[0]?.content, c.expect.stored, c.id);
        if (c.expect.filePath) assert.equal(full.rows[0]?.doc_name, c.expect.filePath, c.id);
        if (c.expect.metadataKey)
          assert.ok(c.expect.metadataKey in (full.rows[0]?.meta ?? {}), c.id);
        const entry = report.hostile.find((h) => h.id === c.id)!;
        entry.outcome += ` → ${doc.json.status}`;
      }
      // Straight onto the queue: poison messages end in the DLQ untouched; valid ones are processed.
      const before = await snapshot(db);
      const sent: Array<{ c: (typeof CASES)[number]; body: string }> = [];
      for (const c of viaSqs) {
        const body = c.rawBody ?? bodyText(c.body);
        await queues.sqs.send(
          new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }),
        );
        sent.push({ c, body });
      }
      await drain();
      const dlq = await queues.dlqBodies();
      for (const { c, body } of sent) {
        let outcome: string;
        if (dlq.includes(body)) outcome = 'dlq';
        else {
          const m = JSON.parse(body);
          const id = documentIdFor(m.content, m.filePath, '1.5');
          outcome = (await statuses([id]))[0]?.status ?? 'lost';
        }
        report.hostile.push({
          id: c.id,
          via: c.via,
          name: c.name,
          expected: c.expect.outcome!,
          outcome,
        });
        assert.equal(outcome, c.expect.outcome, `${c.id} ${c.name}`);
      }
      const poison = sent.filter((s) => s.c.expect.outcome === 'dlq').length;
      assert.equal(dlq.length, poison, 'every poison message, untouched, in the DLQ');
      const afterCounts = JSON.parse(await snapshot(db));
      const beforeCounts = JSON.parse(before);
      assert.equal(
        afterCounts.lightrag_doc_full - beforeCounts.lightrag_doc_full,
        sent.length - poison,
        'only the valid messages stored',
      );
      await queues.purge();
      report.add({
        scenario: 'Hostile input',
        inputs: `${CASES.length} cases: ${CASES.length - sent.length} HTTP requests, ${sent.length} SQS messages (counted here), listed below`,
        outcome:
          'each answered with its status and code, or ended in the DLQ / processed as data; nothing else changed',
        sent: sent.length,
        processed: sent.length - poison,
        failed: 0,
        dlq: poison,
      });
    });
  });

  describe('hostile files', () => {
    it('each crafted file is refused with its reason by the real parse handler, the function unharmed', async () => {
      const s3 = new S3Client({
        endpoint: queues.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      await s3.send(new CreateBucketCommand({ Bucket: HOSTILE_BUCKET }));
      // The slow PDF is refused by whichever budget it exhausts first on this machine: the
      // deadline, or the text its pages yield (about 200,000 characters each).
      const families: Array<[string, string, Buffer, string | RegExp]> = [
        [
          'XLSX: a 2M-char shared string in 4,000 cells',
          'cells.xlsx',
          xlsxSharedStringBomb(2_000_000, 4_000),
          'too_much_text',
        ],
        [
          'PDF: a stream deflated twice, 1 GiB unpacked',
          'twice.pdf',
          pdfDoubleDeflated(2 ** 30),
          'too_complex',
        ],
        ['HTML: 800 cells spanning 1,000,000 × 65,534', 'spans.html', htmlSpanBomb(800), 'read'],
        ['HTML: 20,000 elements deep', 'deep.html', htmlDeeplyNested(20_000), 'too_complex'],
        [
          'DOCX: 64 MiB of empty paragraphs',
          'empty.docx',
          docxEmptyParagraphs(64 * 2 ** 20),
          'too_complex',
        ],
        [
          'PDF: 2,000 pages sharing a 200,000-operator stream',
          'slow.pdf',
          pdfSharedHeavyStream(2_000, 200_000),
          /^(too_slow|too_much_text)$/,
        ],
      ];
      const db = getDatabase();
      const pipeline = new IngestPipeline(db, config, new HashEmbedder(32), createLogger('silent'));
      const s = await pipeline.storages('default');
      for (const [family, name, bytes, expected] of families) {
        const ticket = await new UploadRequests(db, config).requestUpload(s, {
          fileName: name,
          size: bytes.length,
        });
        const key = ticket.upload!.key;
        await s3.send(new PutObjectCommand({ Bucket: HOSTILE_BUCKET, Key: key, Body: bytes }));
        const event = {
          Records: [
            {
              messageId: `hostile-${name}`,
              receiptHandle: 'r',
              body: objectCreatedEvent(HOSTILE_BUCKET, key, bytes.length),
              attributes: { ApproximateReceiveCount: '1' },
            },
          ],
        };
        const baseline = process.memoryUsage().rss;
        let peak = baseline;
        const sampler = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage().rss);
        }, 10);
        const started = performance.now();
        const response = await parseHandler(event as never, { awsRequestId: name } as never);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        clearInterval(sampler);
        assert.deepEqual(response, { batchItemFailures: [] }, `${family}: settled in one delivery`);
        const doc = await s.docStatus.getById(ticket.docId);
        const outcome = doc?.status === 'failed' ? String(doc.metadata.file_rejection) : 'read';
        if (typeof expected === 'string')
          assert.equal(outcome, expected, `${family}: ${doc?.status} ${doc?.error_msg}`);
        else assert.match(outcome, expected, `${family}: ${doc?.status} ${doc?.error_msg}`);
        report.add({
          scenario: `hostile file: ${family}`,
          inputs: `${bytes.length} bytes`,
          outcome: `${outcome === 'read' ? 'read, spans clamped' : `failed: ${outcome}`}; ${seconds} s, +${Math.round((peak - baseline) / 2 ** 20)} MB`,
          sent: 1,
          processed: outcome === 'read' ? 1 : 0,
          failed: outcome === 'read' ? 0 : 1,
          dlq: 0,
        });
      }
      s3.destroy();
      await queues.purge(); // The readable one's ingest message: not part of the later scenarios.
    });
  });

  describe('load', () => {
    it('1,000 documents through 4 containers with small pools: each processed exactly once', async () => {
      await closeDatabase(); // Only the simulated containers hold connections now.
      const containers = Array.from({ length: 4 }, () => simulatedContainer(config));
      const pollers = containers.map(
        (c) =>
          new LocalSqsPoller({
            sqs: queues.sqs,
            queueUrl: queues.queueUrl,
            handler: c.handler,
            failedVisibilitySeconds: 0,
          }),
      );
      const workspaces = ['ws_a', 'ws_b', 'ws_c'];
      const docs = Array.from({ length: 1000 }, (_, i) => ({
        content: `Load document ${i} for ${workspaces[i % 3]}: ${'retrieval storage queue '.repeat(10 + (i % 7))} marker-${workspaces[i % 3]}-${i}`,
        workspace: workspaces[i % 3]!,
        filePath: `load/${i}.txt`,
      }));
      const client = new IngestQueueClient({
        sqs: queues.sqs,
        queueUrl: queues.queueUrl,
        maxMessageBytes: config.queue.maxMessageBytes,
        maxDocumentBytes: config.ingest.maxDocumentBytes,
      });
      const enqueued = await client.enqueue(docs);
      assert.ok(enqueued.every((r) => r.status === 'queued'));
      let maxConnections = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const { rows } = await adminDatabase().query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [target.name],
          );
          maxConnections = Math.max(maxConnections, rows[0]!.n);
          await sleep(50);
        }
      })();
      const started = Date.now();
      for (const p of pollers) p.start();
      while ((await queues.depth(queues.queueUrl)) > 0 && Date.now() - started < 300_000)
        await sleep(250);
      await Promise.all(pollers.map((p) => p.stop()));
      sampling = false;
      await sampler;
      const seconds = (Date.now() - started) / 1000;
      const failedDeliveries = pollers.reduce((n, p) => n + p.stats.failed, 0);
      const check = containers[0]!.db;
      for (const ws of workspaces) {
        const { rows } = await check.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM lightrag_doc_status WHERE workspace = $1 GROUP BY status',
          [ws],
        );
        assert.deepEqual(
          rows,
          [{ status: 'processed', n: docs.filter((d) => d.workspace === ws).length }],
          ws,
        );
      }
      const table = (await containers[0]!.pipeline.storages('ws_a')).chunksVdb.table;
      const totals = await check.query<{
        docs: number;
        expected: number;
        chunks: number;
        vectors: number;
        distinct_docs: number;
      }>(
        `SELECT (SELECT count(*) FROM lightrag_doc_status WHERE workspace LIKE 'ws\\_%')::int AS docs,
                (SELECT sum(chunks_count) FROM lightrag_doc_status WHERE workspace LIKE 'ws\\_%')::int AS expected,
                (SELECT count(*) FROM lightrag_doc_chunks WHERE workspace LIKE 'ws\\_%')::int AS chunks,
                (SELECT count(*) FROM ${table} WHERE workspace LIKE 'ws\\_%')::int AS vectors,
                (SELECT count(DISTINCT id) FROM lightrag_doc_full WHERE workspace LIKE 'ws\\_%')::int AS distinct_docs`,
      );
      const t = totals.rows[0]!;
      assert.equal(t.docs, 1000);
      assert.equal(t.distinct_docs, 1000);
      assert.equal(t.chunks, t.expected, 'exactly one set of chunks per document');
      assert.equal(t.vectors, t.expected, 'exactly one set of vectors per document');
      assert.ok(
        maxConnections <= 4 * config.database.maxConnections,
        `server connections peaked at ${maxConnections}`,
      );
      assert.equal(failedDeliveries, 0, 'no pool timeouts or other failures');
      // Isolation under that concurrency: a workspace never sees another's documents.
      for (const ws of workspaces) {
        const s = await containers[0]!.pipeline.storages(ws);
        const other = workspaces.find((w) => w !== ws)!;
        const matches = await s.chunksVdb.query(`marker-${other}-1`, 20, { threshold: -1 });
        assert.ok(
          matches.every(
            (m) =>
              String(m.content).includes(`marker-${ws}`) || !String(m.content).includes('marker-'),
          ),
          ws,
        );
        assert.ok(
          matches.every((m) => !String(m.content).includes(`marker-${other}`)),
          `${ws} saw ${other}`,
        );
      }
      await Promise.all(containers.map((c) => c.db.end()));
      report.add({
        scenario: 'Load: 1,000 documents, 4 containers',
        inputs: `pool max ${config.database.maxConnections} per container, INGEST_CONCURRENCY ${config.ingest.concurrency}, 3 workspaces`,
        outcome: `all processed once in ${seconds.toFixed(1)} s (${(1000 / seconds).toFixed(0)} docs/s); ${t.chunks} chunks, ${t.vectors} vectors; server connections peaked at ${maxConnections} (limit ${4 * config.database.maxConnections}); 0 failed deliveries; workspaces isolated`,
        sent: 1000,
        processed: 1000,
        failed: 0,
        dlq: 0,
      });
    });
  });

  describe('faults', () => {
    it('50 containers cold-starting at once on an empty database: no DDL error', async () => {
      const empty = await createTestDatabase({ EMBEDDING_DIM: '32' });
      const containers = Array.from({ length: 50 }, () => empty.open());
      const results = await Promise.allSettled(
        containers.map((db) => applySchema(db, empty.config.vector)),
      );
      const errors = results.filter((r) => r.status === 'rejected');
      assert.equal(
        errors.length,
        0,
        String((errors[0] as PromiseRejectedResult | undefined)?.reason),
      );
      const applied = results.filter((r) => r.status === 'fulfilled' && r.value.applied).length;
      assert.equal(applied, 1);
      report.add({
        scenario: '50 cold starts at once',
        inputs: 'empty database, 50 pools',
        outcome: `no error; DDL ran once (${applied}), 49 found the marker`,
      });
    });

    it('a frozen container whose idle connection the server closed: the next invocation succeeds', async () => {
      const db = new Database(config.database, quietLogger);
      const rt = { db, config };
      const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await adminDatabase().query('SELECT pg_terminate_backend($1)', [pid]);
      await sleep(200);
      const res = (await healthRoute(undefined, rt)) as { statusCode: number };
      assert.equal(res.statusCode, 200);
      assert.ok(db.stats().reconnects >= 1);
      await db.end();
      report.add({
        scenario: 'Frozen container, idle connection closed',
        inputs: 'pg_terminate_backend on the idle pooled connection',
        outcome: `next invocation 200; reconnects ${db.stats().reconnects}`,
      });
    });

    it('the network cut under a query: a timeout, not a hang, then recovery', async () => {
      const bridge = await startWsBridge();
      try {
        const cut = loadConfig({
          ...process.env,
          NEON_WS_PROXY: bridge.address,
          POSTGRES_QUERY_TIMEOUT_MS: '1000',
        });
        const db = new Database(cut.database, quietLogger);
        await db.query('SELECT 1');
        const started = Date.now();
        const pending = db.query('SELECT pg_sleep(3)', [], { idempotent: false });
        await sleep(200);
        bridge.blackholeConnections(); // Bytes vanish; nothing closes: only a timeout can notice.
        await assert.rejects(pending, DatabaseUnavailableError);
        const waited = Date.now() - started;
        assert.ok(waited < 2500, `failed after ${waited} ms`);
        assert.equal(
          (await db.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]!.ok,
          1,
          'recovered on a new connection',
        );
        const idempotent = db.query<{ ok: number }>('SELECT 2 AS ok FROM pg_sleep(0.3)');
        await sleep(100);
        bridge.cutConnections(); // Connections closed: fails at once, retried once.
        assert.equal((await idempotent).rows[0]!.ok, 2);
        assert.ok(db.stats().retries >= 1);
        await db.end();
        report.add({
          scenario: 'Network cut under a query',
          inputs: 'bridge blackholed mid-query (1 s query timeout), then connections cut',
          outcome: `DatabaseUnavailableError after ${waited} ms (no hang); next query recovered; cut connection retried once and succeeded`,
        });
      } finally {
        await bridge.close();
      }
    });

    it('a document left processing by a crashed invocation is finished on redelivery', async () => {
      const content = 'Half written when the container crashed. '.repeat(8);
      const docId = documentId(content);
      const db = getDatabase();
      await db.query(
        "INSERT INTO lightrag_doc_full (workspace, id, content) VALUES ('default', $1, $2)",
        [docId, content.trim()],
      );
      await db.query(
        "INSERT INTO lightrag_doc_status (workspace, id, status, content_summary, content_length) VALUES ('default', $1, 'processing', 'x', 1)",
        [docId],
      );
      await queues.sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queueUrl,
          MessageBody: JSON.stringify({ content }),
        }),
      );
      await drain();
      await account(
        'Crashed invocation, redelivered',
        'status left processing, message delivered again',
        1,
        [docId],
        'finished: processed',
      );
    });

    it('PostgreSQL restarted mid-run: retryable failures, 503 during the outage, nothing lost', async (t) => {
      const version = existsSync('/etc/postgresql')
        ? readdirSync('/etc/postgresql').sort().at(-1)
        : undefined;
      if (!version || process.getuid?.() !== 0) {
        t.skip('needs root and pg_ctlcluster to stop the local server');
        return;
      }
      const docs = Array.from({ length: 30 }, (_, i) => ({
        content: `Written across a database restart, number ${i}. ${'text '.repeat(30)}`,
      }));
      const client = new IngestQueueClient({
        sqs: queues.sqs,
        queueUrl: queues.queueUrl,
        maxMessageBytes: 1 << 20,
        maxDocumentBytes: 1 << 20,
      });
      const ids = (await client.enqueue(docs)).map((r) => r.docId!);
      const ctl = (action: string) =>
        run('pg_ctlcluster', [
          '--skip-systemctl-redirect',
          version,
          'main',
          action,
          ...(action === 'stop' ? ['-m', 'fast'] : []),
        ]);
      let healthDuring = 0;
      let failedDuring = 0;
      await ctl('stop');
      try {
        const before = poller.stats.failed;
        await poller.pollOnce();
        failedDuring = poller.stats.failed - before;
        healthDuring = (await call(healthHandler as Handler, 'GET /health')).statusCode;
      } finally {
        await ctl('start');
      }
      for (let i = 0; i < 60; i++) {
        try {
          await adminDatabase().query('SELECT 1');
          break;
        } catch {
          await sleep(500);
        }
      }
      assert.equal(healthDuring, 503, 'health says 503 while the database is gone');
      assert.ok(failedDuring > 0, 'the in-flight batch failed retryably');
      await drain();
      const healthAfter = (await call(healthHandler as Handler, 'GET /health')).statusCode;
      assert.equal(healthAfter, 200);
      await account(
        'PostgreSQL restarted mid-run',
        '30 documents; server stopped during a batch, then started',
        30,
        ids,
        `batch of ${failedDuring} failed retryably; health ${healthDuring} during, ${healthAfter} after; all redelivered and processed`,
      );
    });
  });
});
