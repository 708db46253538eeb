/**
 * The parse step on its own, against real S3 and SQS emulators (fauxqs) and the database:
 * redelivery after a crash, a second event for the same object, S3 failures, and the event
 * notifications S3 sends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { createLogger } from '../../lib/logger.ts';
import { SqsMessageSender } from '../../lib/queue/sender.ts';
import { openStorages, type Storages } from '../../lib/storage/index.ts';
import { parseUploadKey, uploadKey, uploadsInEvent } from '../../lib/uploads/objects.ts';
import { UploadParser } from '../../lib/uploads/parse.ts';
import { UploadRequests } from '../../lib/uploads/request.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';
import { makeDocx } from '../support/files.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';

describe(`parsing uploads on ${TARGET}`, () => {
  let queues: TestQueues;
  let db: Database;
  let config: Config;
  let s3: S3Client;
  const log = createLogger('silent');

  before(async () => {
    queues = await startTestQueues();
    s3 = new S3Client({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'uploads-test' }));
    const target = await createTestDatabase({
      UPLOAD_BUCKET: 'uploads-test',
      S3_ENDPOINT: queues.endpoint,
      SQS_ENDPOINT: queues.endpoint,
      INGEST_QUEUE_URL: queues.queueUrl,
      AWS_REGION: 'us-east-1',
    });
    config = loadConfig(target.env);
    db = target.open();
  });
  after(async () => {
    s3.destroy();
    await queues.stop();
  });

  const storages = (ws: string): Promise<Storages> =>
    openStorages(db, config, new HashEmbedder(32), ws);

  async function uploaded(ws: string, name: string, bytes: Uint8Array | undefined) {
    const s = await storages(ws);
    const ticket = await new UploadRequests(db, config).requestUpload(s, {
      fileName: name,
      size: bytes?.length ?? 1,
    });
    const key = ticket.upload!.key;
    if (bytes)
      await s3.send(new PutObjectCommand({ Bucket: 'uploads-test', Key: key, Body: bytes }));
    return {
      s,
      ticket,
      object: { bucket: 'uploads-test', key, size: bytes?.length ?? 0, ...parseUploadKey(key) },
    };
  }

  it('resumes after a crash under the same message, ignores a second event while parsing', async () => {
    await queues.purge();
    const ws = uniqueWorkspace('up');
    const { s, ticket, object } = await uploaded(
      ws,
      'notes.docx',
      makeDocx(['Orion is a constellation.']),
    );
    const parser = new UploadParser(db, config, new SqsMessageSender(config.queue), log);
    // The first delivery crashed mid-parse: the row says parsing, claimed by message m-1.
    const row = (await s.docStatus.getById(ticket.docId))!;
    const { created_at: _c, updated_at: _u, ...rest } = row;
    await s.docStatus.upsert([
      { ...rest, status: 'parsing', metadata: { ...rest.metadata, parse_message_id: 'm-1' } },
    ]);
    const other = await parser.parseUpload(s, object, { messageId: 'm-2' });
    assert.equal(other.status, 'skipped');
    const resumed = await parser.parseUpload(s, object, { messageId: 'm-1' });
    assert.equal(resumed.status, 'analyzing');
    const doc = await s.docStatus.getById(ticket.docId);
    assert.equal(doc?.status, 'analyzing');
    assert.equal(doc?.content_summary, 'Orion is a constellation.');
    assert.equal((await s.fullDocs.getById(ticket.docId))?.content, 'Orion is a constellation.');
    assert.equal(await queues.depth(queues.queueUrl), 1, 'one ingest message');
    // Parsed already: a late duplicate event changes nothing.
    assert.equal((await parser.parseUpload(s, object, { messageId: 'm-3' })).status, 'skipped');
  });

  it('reads only the configured bucket: an event naming another changes nothing', async () => {
    const ws = uniqueWorkspace('up');
    const { s, ticket, object } = await uploaded(ws, 'elsewhere.docx', makeDocx(['Elsewhere.']));
    const parser = new UploadParser(db, config, new SqsMessageSender(config.queue), log);
    const forged = await parser.parseUpload(s, { ...object, bucket: 'someone-elses-bucket' });
    assert.equal(forged.status, 'skipped');
    assert.match(forged.reason ?? '', /not UPLOAD_BUCKET/);
    assert.equal((await s.docStatus.getById(ticket.docId))?.status, 'pending');
  });

  it('an object that is gone fails the document; an unreachable S3 is retried, then fails', async () => {
    const ws = uniqueWorkspace('up');
    const gone = await uploaded(ws, 'gone.docx', undefined);
    const parser = new UploadParser(db, config, new SqsMessageSender(config.queue), log);
    const outcome = await parser.parseUpload(gone.s, gone.object);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason ?? '', /s3: could not read .*NoSuchKey/);
    const down = await uploaded(ws, 'down.docx', makeDocx(['x']));
    const offline = new UploadParser(
      db,
      { ...config, uploads: { ...config.uploads, endpoint: 'http://127.0.0.1:9' } },
      new SqsMessageSender(config.queue),
      log,
    );
    await assert.rejects(offline.parseUpload(down.s, down.object), /s3: could not read/);
    assert.equal(
      (await down.s.docStatus.getById(down.ticket.docId))?.status,
      'pending',
      'back to pending for the redelivery',
    );
    const last = await offline.parseUpload(down.s, down.object, { finalAttempt: true });
    assert.equal(last.status, 'failed');
    const doc = await down.s.docStatus.getById(down.ticket.docId);
    assert.equal(doc?.status, 'failed');
    assert.equal(doc?.metadata.error_type, 'file_extraction_error');
  });

  it('refuses an upload of a workspace outside ALLOWED_WORKSPACES, parsing nothing', async () => {
    const { processUploadRecord } = await import('../../lib/uploads/runtime.ts');
    const { sqsRecord } = await import('../../lib/deploy/lambda-sandbox.ts');
    const { PipelineLog } = await import('../../lib/pipeline/status.ts');
    const ws = uniqueWorkspace('up');
    const { s, ticket, object } = await uploaded(ws, 'closed.docx', makeDocx(['x']));
    const closed = { ...config, api: { ...config.api, allowedWorkspaces: ['default'] } };
    const rt = {
      config: closed,
      db,
      logger: log,
      uploads: new UploadParser(db, closed, new SqsMessageSender(config.queue), log),
      pipelineLog: new PipelineLog(db, log),
      storages,
    };
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: object.bucket }, object: { key: object.key } },
        },
      ],
    };
    await assert.rejects(
      processUploadRecord(rt, sqsRecord('u-1', JSON.stringify(event)) as never),
      /not in ALLOWED_WORKSPACES; the upload was not parsed/,
    );
    assert.equal((await s.docStatus.getById(ticket.docId))?.status, 'pending');
  });

  it('reads S3 event notifications: keys URL-encoded, test events, other events', () => {
    const docId = 'doc-0123456789abcdef0123456789abcdef';
    const key = uploadKey('team a', docId, 'Q1 report + notes.pdf');
    // S3 URL-encodes the key in its events, spaces as "+".
    const eventKey = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
    const [object, ...others] = uploadsInEvent(
      JSON.stringify({
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'b' }, object: { key: eventKey, size: 5 } },
          },
          {
            eventName: 'ObjectRemoved:Delete',
            s3: { bucket: { name: 'b' }, object: { key: 'x' } },
          },
        ],
      }),
    );
    assert.deepEqual(others, []);
    assert.deepEqual(object, {
      bucket: 'b',
      key,
      size: 5,
      workspace: 'team a',
      docId,
      fileName: 'Q1 report + notes.pdf',
    });
    assert.deepEqual(uploadsInEvent('{"Service":"Amazon S3","Event":"s3:TestEvent"}'), []);
    assert.throws(
      () =>
        uploadsInEvent(
          '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"elsewhere/x.pdf"}}}]}',
        ),
      /not an upload key/,
    );
    assert.throws(() => uploadsInEvent('{"nothing":1}'), /not an S3 event notification/);
    assert.throws(
      () => parseUploadKey('uploads/..%2F/doc-0123456789abcdef0123456789abcdef/a.pdf'),
      /Invalid workspace/,
    );
  });
});
