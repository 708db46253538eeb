/**
 * Every state a killed worker can leave has a way out (issue 26): a document in parsing,
 * analyzing, processing or pending whose worker's lease ran out (WORK_LEASE_SECONDS after its
 * row last changed) is resumed by any message — a DLQ redrive gives a new message id — and can
 * be reprocessed or deleted; while the lease runs, a second message or a delete is refused.
 * Leases are aged by moving `updated_at` back, as the clock would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { DocumentService } from '../../lib/documents/service.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { DocumentBusyError, DocumentNotReprocessableError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/logger.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { IngestQueueClient } from '../../lib/queue/enqueue.ts';
import { SqsMessageSender } from '../../lib/queue/sender.ts';
import type { Storages } from '../../lib/storage/index.ts';
import { nextStatus } from '../../lib/storage/status-rows.ts';
import { parseUploadKey, uploadsInEvent } from '../../lib/uploads/objects.ts';
import { UploadParser } from '../../lib/uploads/parse.ts';
import { UploadRequests } from '../../lib/uploads/request.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';
import { makeDocx } from '../support/files.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';

const BUCKET = 'stuck-uploads';

describe(`stuck documents and work leases on ${TARGET}`, () => {
  let queues: TestQueues;
  let uploadsQueueUrl: string;
  let s3: S3Client;
  let db: Database;
  let config: Config;
  let pipeline: IngestPipeline;
  let service: DocumentService;
  let parser: UploadParser;
  const log = createLogger('silent');

  before(async () => {
    queues = await startTestQueues({ name: 'stuck-ingest' });
    uploadsQueueUrl = (
      await queues.sqs.send(new CreateQueueCommand({ QueueName: 'stuck-uploads' }))
    ).QueueUrl!;
    s3 = new S3Client({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const target = await createTestDatabase({
      UPLOAD_BUCKET: BUCKET,
      S3_ENDPOINT: queues.endpoint,
      SQS_ENDPOINT: queues.endpoint,
      INGEST_QUEUE_URL: queues.queueUrl,
      UPLOADS_QUEUE_URL: uploadsQueueUrl,
      AWS_REGION: 'us-east-1',
    });
    config = loadConfig(target.env);
    db = target.open();
    pipeline = new IngestPipeline(db, config, new HashEmbedder(32), log);
    const queue = new IngestQueueClient({
      sqs: queues.sqs,
      queueUrl: queues.queueUrl,
      maxMessageBytes: config.queue.maxMessageBytes,
      maxDocumentBytes: config.ingest.maxDocumentBytes,
      pipeline,
    });
    service = new DocumentService(db, config, pipeline, queue, log);
    parser = new UploadParser(db, config, new SqsMessageSender(config.queue), log);
  });
  after(async () => {
    s3.destroy();
    await queues.stop();
  });

  /** The clock moves past the lease: the row last changed an hour ago. */
  async function age(s: Storages, docId: string) {
    await db.query(
      `UPDATE lightrag_doc_status SET updated_at = updated_at - interval '1 hour'
        WHERE workspace = $1 AND id = $2`,
      [s.workspace, docId],
    );
  }

  async function setStatus(s: Storages, docId: string, status: string, meta = {}) {
    const row = (await s.docStatus.getById(docId))!;
    await s.docStatus.upsert([
      nextStatus(row, { status: status as never, metadata: { ...row.metadata, ...meta } }),
    ]);
  }

  async function receiveAll(url: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const { Messages } = await queues.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!Messages?.length) return bodies;
      bodies.push(...Messages.map((m) => m.Body ?? ''));
    }
  }

  async function uploadedFile(ws: string, name: string, text: string) {
    const s = await pipeline.storages(ws);
    const body = makeDocx([text]);
    const ticket = await new UploadRequests(db, config).requestUpload(s, {
      fileName: name,
      size: body.length,
    });
    const key = ticket.upload!.key;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return {
      s,
      docId: ticket.docId,
      object: { bucket: BUCKET, key, size: body.length, ...parseUploadKey(key) },
    };
  }

  it('a parse killed mid-read: held while its lease runs, then redriven under a new message id', async () => {
    await queues.purge();
    const ws = uniqueWorkspace('stuck');
    const { s, docId, object } = await uploadedFile(ws, 'cut.docx', 'Parsing was cut off here.');
    // The first delivery (message m-1) moved it to parsing, then the function was killed.
    await setStatus(s, docId, 'parsing', { parse_message_id: 'm-1' });
    // A second event (S3 delivers at least once) while the lease runs: ignored.
    assert.equal((await parser.parseUpload(s, object, { messageId: 'm-2' })).status, 'skipped');
    await assert.rejects(service.delete(docId, ws), (err: unknown) => {
      assert.ok(err instanceof DocumentBusyError);
      assert.match(err.message, /WORK_LEASE_SECONDS/);
      return true;
    });
    const held = await service.reprocess([docId], ws);
    assert.equal(held.documents[0]?.status, 'failed');
    assert.match(held.documents[0]?.error ?? '', /held by its worker until/);
    // The lease runs out; the DLQ redrive delivers it as m-9: the parse is redone, once.
    await age(s, docId);
    assert.equal((await parser.parseUpload(s, object, { messageId: 'm-9' })).status, 'analyzing');
    assert.equal((await s.fullDocs.getById(docId))?.content, 'Parsing was cut off here.');
    assert.equal((await receiveAll(queues.queueUrl)).length, 1, 'one ingest message');
  });

  it('reprocessing a stuck parse sends its S3 event again; the parse then completes', async () => {
    const ws = uniqueWorkspace('stuck');
    const { s, docId, object } = await uploadedFile(ws, 'again.docx', 'Parsed on the second go.');
    await setStatus(s, docId, 'parsing', { parse_message_id: 'm-1' });
    await age(s, docId);
    const res = await service.reprocess(undefined, ws);
    assert.deepEqual(
      res.documents.map((d) => [d.docId, d.status]),
      [[docId, 'queued']],
    );
    const row = await s.docStatus.getById(docId);
    assert.equal(row?.status, 'pending');
    assert.equal(row?.metadata.parse_message_id, undefined);
    const events = await receiveAll(uploadsQueueUrl);
    assert.equal(events.length, 1);
    const [announced] = uploadsInEvent(events[0]!);
    assert.equal(announced?.key, object.key);
    assert.equal(announced?.docId, docId);
    assert.equal(
      (await parser.parseUpload(s, announced!, { messageId: 'm-new' })).status,
      'analyzing',
    );
  });

  it('a parse that gave up on S3 is parsed again; a file rejected for its content is not', async () => {
    const ws = uniqueWorkspace('stuck');
    const flaky = await uploadedFile(ws, 'flaky.docx', 'S3 was down.');
    const offline = new UploadParser(
      db,
      { ...config, uploads: { ...config.uploads, endpoint: 'http://127.0.0.1:9' } },
      new SqsMessageSender(config.queue),
      log,
    );
    assert.equal(
      (await offline.parseUpload(flaky.s, flaky.object, { finalAttempt: true })).status,
      'failed',
    );
    const again = await service.reprocess([flaky.docId], ws);
    assert.equal(again.documents[0]?.status, 'queued');
    assert.equal((await receiveAll(uploadsQueueUrl)).length, 1);
    const s = flaky.s;
    const bad = await s.docStatus.getById(flaky.docId);
    assert.equal(bad?.status, 'pending');
    // A rejected file (here: no text) stays refused by name.
    const empty = await uploadedFile(ws, 'blank.docx', '');
    assert.equal((await parser.parseUpload(s, empty.object)).status, 'failed');
    await assert.rejects(service.reprocess([empty.docId], ws), DocumentNotReprocessableError);
  });

  it('a document left processing (killed on every delivery): held, then reprocessed or deleted', async () => {
    await queues.purge();
    const ws = uniqueWorkspace('stuck');
    const s = await pipeline.storages(ws);
    const stored = await pipeline.store({
      content: 'Killed on every delivery. '.repeat(10),
      filePath: 'killed.md',
      workspace: ws,
    });
    const other = await pipeline.store({
      content: 'Parsed, then its ingest message was lost.',
      filePath: 'lost.md',
      workspace: ws,
    });
    const waiting = await new UploadRequests(db, config).requestUpload(s, {
      fileName: 'w.pdf',
      size: 100,
    });
    await setStatus(s, stored.docId, 'processing');
    await setStatus(s, other.docId, 'analyzing');
    // Held: a reprocess of everything passes over them and over the ticket awaiting its file.
    const early = await service.reprocess(undefined, ws);
    assert.deepEqual(early.documents, []);
    await assert.rejects(service.delete(stored.docId, ws), DocumentBusyError);
    for (const id of [stored.docId, other.docId, waiting.docId]) await age(s, id);
    const late = await service.reprocess(undefined, ws);
    assert.deepEqual(
      late.documents.map((d) => d.status).sort(),
      ['queued', 'queued'],
      JSON.stringify(late.documents),
    );
    assert.equal((await s.docStatus.getById(waiting.docId))?.status, 'pending');
    // The redriven (or reprocessed) message finishes it exactly once.
    const bodies = await receiveAll(queues.queueUrl);
    assert.equal(bodies.length, 2);
    for (const body of bodies) {
      const { docId } = JSON.parse(body) as { docId: string };
      assert.equal((await pipeline.ingest({ docId, workspace: ws })).status, 'processed');
    }
    assert.equal((await s.docStatus.getById(stored.docId))?.status, 'processed');
    // Stuck again, then deleted instead: nothing left behind.
    await setStatus(s, other.docId, 'processing');
    await age(s, other.docId);
    await service.delete(other.docId, ws);
    assert.equal(await s.docStatus.getById(other.docId), null);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM lightrag_doc_chunks WHERE workspace = $1 AND full_doc_id = $2`,
      [ws, other.docId],
    );
    assert.equal(Number(rows[0]?.n), 0);
  });

  it('a merge redriven under a new message id is claimed once its lease runs out', async () => {
    const ws = uniqueWorkspace('stuck');
    const s = await pipeline.storages(ws);
    await s.extractionRuns.start('doc-merge', 'run-1', [['c1'], ['c2']]);
    assert.ok(await s.extractionRuns.moveMerge('doc-merge', 'run-1', ['waiting'], 'queued'));
    assert.ok(await s.extractionRuns.claimMerge('doc-merge', 'run-1', 'm-1', 1200));
    // A duplicate merge request while m-1 merges: refused; m-1 delivered again: resumes.
    assert.equal(await s.extractionRuns.claimMerge('doc-merge', 'run-1', 'm-2', 1200), false);
    assert.ok(await s.extractionRuns.claimMerge('doc-merge', 'run-1', 'm-1', 1200));
    // m-1's worker was killed; the DLQ redrive delivers it as m-9 after the lease.
    await db.query(
      `UPDATE lightrag_serverless_extraction_runs SET updated_at = now() - interval '1 hour'
        WHERE workspace = $1`,
      [ws],
    );
    assert.ok(await s.extractionRuns.claimMerge('doc-merge', 'run-1', 'm-9', 1200));
    assert.equal((await s.extractionRuns.getRun('doc-merge'))?.mergeMessageId, 'm-9');
  });
});
