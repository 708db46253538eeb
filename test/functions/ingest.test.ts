import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { handler } from '../../functions/ingest.ts';
import { getConfig } from '../../lib/config.ts';
import { getDatabase } from '../../lib/db/container.ts';
import { documentIdFor } from '../../lib/ids.ts';
import { getIngestRuntime } from '../../lib/ingest/runtime.ts';
import { IngestQueueClient } from '../../lib/queue/enqueue.ts';
import { LocalSqsPoller } from '../../lib/queue/poller.ts';
import { documentId } from '../../lib/text.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../support/openai-server.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';

const DIM = 32;

describe(`ingest function through SQS on ${TARGET}`, () => {
  let queues: TestQueues;
  let provider: FakeOpenAi;
  let poller: LocalSqsPoller;
  let client: IngestQueueClient;
  const savedEnv = { ...process.env };

  before(async () => {
    provider = await startFakeOpenAi(DIM);
    queues = await startTestQueues({ maxReceiveCount: 3 });
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'fake-embedding',
      EMBEDDING_BASE_URL: provider.baseUrl,
      EMBEDDING_API_KEY: 'sk-test-secret',
      EMBEDDING_MAX_RETRIES: '1',
      CHUNK_SIZE: '64',
      CHUNK_OVERLAP_SIZE: '8',
      INGEST_MAX_RECEIVE_COUNT: '3',
    });
    // The handler reads its configuration from the environment, once per container.
    Object.assign(process.env, target.env);
    poller = new LocalSqsPoller({
      sqs: queues.sqs,
      queueUrl: queues.queueUrl,
      handler,
      failedVisibilitySeconds: 0,
    });
    const config = getConfig();
    client = new IngestQueueClient({
      sqs: queues.sqs,
      queueUrl: queues.queueUrl,
      maxMessageBytes: 4096,
      maxDocumentBytes: config.ingest.maxDocumentBytes,
      pipeline: getIngestRuntime().pipeline,
    });
  });

  after(async () => {
    await getDatabase().end();
    await queues.stop();
    await provider.close();
    process.env = savedEnv;
  });

  beforeEach(async () => {
    await queues.purge();
    provider.faults = [];
    provider.outage = undefined;
  });

  /** Polls until the queue is empty; returns how many polls it took. */
  async function drain(maxPolls = 50): Promise<void> {
    for (let i = 0; i < maxPolls; i++) {
      await poller.pollOnce();
      if ((await queues.depth(queues.queueUrl)) === 0) return;
    }
    assert.fail('queue did not drain');
  }

  const storages = () => getIngestRuntime().pipeline.storages();

  /** Messages sent = documents processed + documents failed with a reason + messages in the DLQ. */
  async function assertAccounted(sent: number, docIds: string[]) {
    const s = await storages();
    const statuses = (await s.docStatus.getByIds(docIds)).filter((d) => d !== null);
    const processed = statuses.filter((d) => d.status === 'processed').length;
    const failed = statuses.filter((d) => d.status === 'failed' && d.error_msg).length;
    const dlq = (await queues.dlqBodies()).length;
    assert.equal(
      processed + failed + dlq,
      sent,
      `processed ${processed} + failed ${failed} + dlq ${dlq} != sent ${sent}`,
    );
    return { processed, failed, dlq };
  }

  it('processes good documents: chunks, vectors and status written together', async () => {
    const docs = Array.from({ length: 7 }, (_, i) => ({
      content: Array.from(
        { length: 40 },
        (_, j) => `Document ${i} sentence ${j} on retrieval, chunks and vectors.`,
      ).join(' '),
      filePath: `doc-${i}.md`,
    }));
    const results = await client.enqueue(docs);
    assert.deepEqual(
      results.map((r) => r.status),
      Array(7).fill('queued'),
    );
    await drain();
    const s = await storages();
    for (const result of results) {
      const status = await s.docStatus.getById(result.docId!);
      assert.equal(status?.status, 'processed');
      assert.ok((status?.chunks_count ?? 0) > 1, 'several chunks at CHUNK_SIZE=64');
      const chunks = await s.textChunks.getByDocId(result.docId!);
      assert.equal(chunks.length, status?.chunks_count);
      assert.deepEqual(
        chunks.map((c) => c.id),
        status?.chunks_list,
      );
      assert.equal((await s.chunksVdb.getVectorsByIds(status!.chunks_list)).size, chunks.length);
      assert.equal((await s.fullDocs.getById(result.docId!))?.file_path, status?.file_path);
    }
    assert.ok(provider.requests.every((r) => r.headers.authorization === 'Bearer sk-test-secret'));
    const matches = await s.chunksVdb.query('Document 3 retrieval', 3);
    assert.ok(matches.length > 0);
    await assertAccounted(
      7,
      results.map((r) => r.docId!),
    );
  });

  it('moves a poison message to the DLQ after 3 receives, untouched', async () => {
    await queues.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: '{"contents": "typo"}' }),
    );
    await queues.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'not json at all' }),
    );
    const before = poller.stats.failed;
    await drain();
    assert.equal(
      poller.stats.failed - before,
      6,
      'each poison message received and failed 3 times',
    );
    const bodies = (await queues.dlqBodies()).sort();
    assert.deepEqual(bodies, ['not json at all', '{"contents": "typo"}']);
  });

  it('stores one document when the same message is delivered twice', async () => {
    const body = JSON.stringify({
      content: 'Exactly once, please. '.repeat(30),
      filePath: 'dup.txt',
    });
    await queues.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
    await queues.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
    await drain();
    const docId = documentIdFor(JSON.parse(body).content, 'dup.txt', '1.5');
    const s = await storages();
    const status = await s.docStatus.getById(docId);
    assert.equal(status?.status, 'processed');
    const markers = (await s.docStatus.getDocsByStatus('failed')).filter(
      (d) => d.metadata.is_duplicate,
    );
    assert.deepEqual(markers, [], 'a redelivery is no duplicate');
    assert.equal((await s.textChunks.getByDocId(docId)).length, status?.chunks_count);
    const { rows } = await getDatabase().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${s.chunksVdb.table} WHERE workspace = $1 AND full_doc_id = $2`,
      [s.workspace, docId],
    );
    assert.equal(rows[0]!.n, status?.chunks_count);
  });

  it('retries through a provider outage, then succeeds', async () => {
    provider.outage = { kind: 'status', status: 503, retryAfter: '0' };
    const [result] = await client.enqueue([
      { content: 'Written during an outage. '.repeat(10), filePath: 'outage.txt' },
    ]);
    await poller.pollOnce();
    const s = await storages();
    const during = await s.docStatus.getById(result!.docId!);
    assert.equal(during?.status, 'pending', 'back to pending, waiting for redelivery');
    assert.match(during?.error_msg ?? '', /503/);
    provider.outage = undefined;
    await drain();
    const afterwards = await s.docStatus.getById(result!.docId!);
    assert.equal(afterwards?.status, 'processed');
    assert.equal(afterwards?.error_msg, null);
    await assertAccounted(1, [result!.docId!]);
  });

  it('marks a document failed, with the reason and its content kept, when the provider refuses it', async () => {
    provider.outage = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: { message: 'input too long' } }),
    };
    const [result] = await client.enqueue([
      { content: 'Refused by the provider. '.repeat(5), filePath: 'refused.txt' },
    ]);
    await drain();
    const s = await storages();
    const status = await s.docStatus.getById(result!.docId!);
    assert.equal(status?.status, 'failed');
    assert.match(status?.error_msg ?? '', /HTTP 400: input too long/);
    assert.ok(
      (await s.fullDocs.getById(result!.docId!))?.content.startsWith('Refused by the provider.'),
    );
    assert.deepEqual(await queues.dlqBodies(), []);
    // Reprocessing later (the provider fixed) succeeds from the stored content.
    provider.outage = undefined;
    const again = await getIngestRuntime().pipeline.ingest({ docId: result!.docId! });
    assert.equal(again.status, 'processed');
  });

  it('gives up after the last delivery: status failed with the reason, message deleted, DLQ empty', async () => {
    provider.outage = { kind: 'status', status: 500, retryAfter: '0' };
    const [result] = await client.enqueue([{ content: 'Never gets embedded. '.repeat(5) }]);
    await drain();
    const status = await (await storages()).docStatus.getById(result!.docId!);
    assert.equal(status?.status, 'failed');
    assert.match(status?.error_msg ?? '', /Gave up after the last delivery: .*HTTP 500/);
    // The one failure policy: the document says what happened; the DLQ keeps only what no
    // consumer could settle (lib/errors.ts givesUp).
    assert.deepEqual(await queues.dlqBodies(), []);
    assert.equal(await queues.depth(queues.queueUrl), 0);
  });

  it('sends a failure it could not record to the DLQ after the last delivery', async () => {
    provider.outage = { kind: 'status', status: 500, retryAfter: '0' };
    const db = getIngestRuntime().db;
    // Status writes that mark a document failed are refused: the failure cannot be recorded.
    await db.query(`CREATE FUNCTION refuse_failed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.status = 'failed' THEN RAISE EXCEPTION 'status table unavailable'; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER refuse_failed BEFORE INSERT OR UPDATE ON lightrag_doc_status
      FOR EACH ROW EXECUTE FUNCTION refuse_failed()`);
    try {
      await client.enqueue([{ content: 'Cannot even be marked failed. '.repeat(5) }]);
      await drain();
      assert.equal((await queues.dlqBodies()).length, 1, 'the message is the only record left');
    } finally {
      await db.query('DROP TRIGGER refuse_failed ON lightrag_doc_status');
      await db.query('DROP FUNCTION refuse_failed()');
    }
  });

  it('sends documents larger than a message by reference, stored first', async () => {
    const content = `Large document. ${'A long paragraph about vector search and chunking. '.repeat(200)}`;
    const [result] = await client.enqueue([{ content, filePath: 'large.md' }]);
    assert.equal(result?.byReference, true);
    assert.equal(result?.status, 'queued');
    const s = await storages();
    assert.equal((await s.docStatus.getById(result!.docId!))?.status, 'pending');
    await drain();
    const status = await s.docStatus.getById(result!.docId!);
    assert.equal(status?.status, 'processed');
    assert.equal(status?.file_path, 'large.md');
    // Enqueuing it again: already processed, not sent.
    const [again] = await client.enqueue([{ content, filePath: 'large.md' }]);
    assert.equal(again?.status, 'duplicate');
  });

  it('finishes a document a crashed invocation left in processing', async () => {
    const content = 'Left half done by a crash. '.repeat(20);
    const docId = documentId(content);
    const s = await storages();
    await s.fullDocs.upsert([{ id: docId, content }]);
    await s.docStatus.upsert([
      { id: docId, status: 'processing', content_summary: 'x', content_length: content.length },
    ]);
    await s.textChunks.upsert([
      { id: 'chunk-stale', content: 'stale', full_doc_id: docId, chunk_order_index: 0, tokens: 1 },
    ]);
    await queues.sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: JSON.stringify({ content }),
      }),
    );
    await drain();
    const status = await s.docStatus.getById(docId);
    assert.equal(status?.status, 'processed');
    const chunks = await s.textChunks.getByDocId(docId);
    assert.ok(
      !chunks.some((c) => c.id === 'chunk-stale'),
      'the stale chunk of the crashed run is gone',
    );
    assert.equal(chunks.length, status?.chunks_count);
  });

  it('reports per record: one bad record does not fail its batch', async () => {
    const good = JSON.stringify({ content: 'A good neighbour. '.repeat(10) });
    const response = await handler(
      {
        Records: [
          record('m1', good),
          record('m2', '{"content": 42}'),
          record('m3', JSON.stringify({ content: 'Another good one. '.repeat(10) })),
        ],
      },
      {} as never,
    );
    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });

  it('refuses a message for a workspace outside ALLOWED_WORKSPACES, storing nothing', async () => {
    const body = JSON.stringify({
      content: 'For another tenant. '.repeat(10),
      workspace: 'team.v1',
    });
    const response = await handler({ Records: [record('m9', body)] }, {} as never);
    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: 'm9' }] });
    const { rows } = await getDatabase().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM lightrag_doc_status WHERE workspace = 'team.v1'",
    );
    assert.equal(rows[0]!.n, 0);
  });
});

function record(messageId: string, body: string) {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ingest',
    awsRegion: 'us-east-1',
  };
}
