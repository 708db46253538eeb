/**
 * LightRAG Server's document routes against the fact sheet (../shared/LIGHTRAG-SERVER-API.md §4):
 * its paths, its request forms and its response shapes, through the real documents and ingest
 * handlers, the SQS emulator and the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { handler as documentsHandler } from '../../functions/documents.ts';
import { handler as healthHandler } from '../../functions/health.ts';
import { handler as ingestHandler } from '../../functions/ingest.ts';
import { getDatabase } from '../../lib/db/container.ts';
import { matchRoute } from '../../lib/http/routes.ts';
import { LocalSqsPoller } from '../../lib/queue/poller.ts';
import { call, type EventOptions, type Handler } from '../support/api-event.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';

const docs = (routeKey: string, options?: EventOptions) =>
  call(documentsHandler as Handler, routeKey, options);

/** The fields of LightRAG's DocStatusResponse, exactly. */
const DOC_FIELDS = [
  'chunks_count',
  'content_length',
  'content_summary',
  'created_at',
  'error_msg',
  'file_path',
  'id',
  'metadata',
  'status',
  'track_id',
  'updated_at',
];

describe(`LightRAG Server's document routes on ${TARGET}`, () => {
  let queues: TestQueues;
  let poller: LocalSqsPoller;
  const savedEnv = { ...process.env };

  before(async () => {
    queues = await startTestQueues({ name: 'lightrag-docs' });
    const target = await createTestDatabase({
      EMBEDDING_PROVIDER: 'hash',
      INGEST_QUEUE_URL: queues.queueUrl,
      SQS_ENDPOINT: queues.endpoint,
      AWS_REGION: 'us-east-1',
      ALLOWED_WORKSPACES: 'default,tenant_a',
      UPLOAD_BUCKET: 'lightrag-docs-uploads',
      S3_ENDPOINT: queues.endpoint,
    });
    const s3 = new S3Client({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'lightrag-docs-uploads' }));
    s3.destroy();
    Object.assign(process.env, target.env);
    poller = new LocalSqsPoller({
      sqs: queues.sqs,
      queueUrl: queues.queueUrl,
      handler: ingestHandler,
      failedVisibilitySeconds: 0,
    });
  });
  after(async () => {
    await getDatabase().end();
    await queues.stop();
    process.env = savedEnv;
  });

  it('routes them to the documents function, literal paths before {id}', () => {
    for (const [method, path] of [
      ['POST', '/documents/paginated'],
      ['GET', '/documents/status_counts'],
      ['GET', '/documents/supported_file_types'],
      ['GET', '/documents/track_status/insert_1'],
      ['POST', '/documents/text'],
      ['POST', '/documents/texts'],
    ] as const) {
      const route = matchRoute(method, path);
      assert.equal(route?.fn, 'documents', path);
      assert.notEqual(route?.routeKey, 'GET /documents/{id}', path);
    }
  });

  async function drain() {
    for (let i = 0; i < 30 && (await queues.depth(queues.queueUrl)) > 0; i++)
      await poller.pollOnce();
  }

  let trackId = '';
  it('POST /documents/text and /texts: {status, message, track_id}; duplicates say so', async () => {
    const one = await docs('POST /documents/text', {
      body: { text: 'Helium is a noble gas found in the Sun.', file_source: 'helium.txt' },
    });
    assert.equal(one.statusCode, 200, one.body);
    assert.deepEqual(Object.keys(one.json).sort(), ['message', 'status', 'track_id']);
    assert.equal(one.json.status, 'success');
    assert.match(one.json.track_id, /^insert_\d{8}_\d{6}_[0-9a-f]{8}$/);
    trackId = one.json.track_id;
    // Waiting documents make LightRAG's pipeline "active" on /health, as the WebUI polls it.
    const waiting = await call(healthHandler as Handler, 'GET /health');
    assert.deepEqual([waiting.json.pipeline_active, waiting.json.pipeline_busy], [true, false]);
    await drain();
    const idle = await call(healthHandler as Handler, 'GET /health');
    assert.deepEqual([idle.json.pipeline_active, idle.json.pipeline_busy], [false, false]);
    const many = await docs('POST /documents/texts', {
      body: {
        texts: ['Neon glows red in a discharge tube.', 'Argon is used in welding.'],
        file_sources: ['neon.txt', 'argon.txt'],
      },
    });
    assert.equal(many.json.status, 'success', many.body);
    await drain();
    const again = await docs('POST /documents/text', {
      body: { text: 'Helium is a noble gas found in the Sun.', file_source: 'helium.txt' },
    });
    assert.equal(again.json.status, 'duplicated', again.body);
    const mixed = await docs('POST /documents/texts', {
      body: { texts: ['Helium is a noble gas found in the Sun.', 'Krypton is rare.'] },
    });
    assert.equal(mixed.json.status, 'partial_success', mixed.body);
    for (const bad of [
      {},
      { text: '' },
      { text: 5 },
      { texts: [] },
      { texts: ['a'], file_sources: 'x' },
    ]) {
      const route = 'texts' in bad ? 'POST /documents/texts' : 'POST /documents/text';
      const res = await docs(route, { body: bad });
      assert.equal(res.statusCode, 400, `${route} ${JSON.stringify(bad)}: ${res.body}`);
      assert.equal(typeof res.json.detail, 'string');
    }
    await drain();
  });

  it("POST /documents/paginated: the WebUI's body → documents, pagination, status_counts with all", async () => {
    const res = await docs('POST /documents/paginated', {
      body: {
        status_filter: null,
        status_filters: null,
        page: 1,
        page_size: 10,
        sort_field: 'updated_at',
        sort_direction: 'desc',
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json).sort(), ['documents', 'pagination', 'status_counts']);
    const [doc] = res.json.documents;
    assert.deepEqual(Object.keys(doc).sort(), DOC_FIELDS);
    assert.match(doc.created_at, /^\d{4}-\d{2}-\d{2}T/);
    // Four documents, and LightRAG's `failed` marker row of the content duplicate (the same
    // text under the same name is the same document: answered `duplicated`, nothing recorded).
    assert.equal(res.json.status_counts.processed, 4);
    assert.equal(res.json.status_counts.failed, 1);
    assert.equal(res.json.status_counts.all, 5);
    assert.deepEqual(res.json.pagination, {
      page: 1,
      page_size: 10,
      total_count: 5,
      total_pages: 1,
      has_next: false,
      has_prev: false,
    });
    // Filters, one or several; the defaults without a body.
    const failed = await docs('POST /documents/paginated', { body: { status_filter: 'failed' } });
    assert.equal(failed.json.pagination.total_count, 1);
    const several = await docs('POST /documents/paginated', {
      body: { status_filters: ['processed', 'pending'], page_size: 10 },
    });
    assert.equal(several.json.pagination.total_count, 4);
    const bare = await docs('POST /documents/paginated');
    assert.equal(bare.json.pagination.page_size, 50);
    for (const bad of [
      { page_size: 5 },
      { page_size: 201 },
      { page: 0 },
      { sort_field: 'size' },
      { sort_direction: 'up' },
      { status_filter: 'done' },
      { status_filters: 'processed' },
    ]) {
      const r = await docs('POST /documents/paginated', { body: bad });
      assert.equal(r.statusCode, 400, `${JSON.stringify(bad)}: ${r.body}`);
      assert.equal(r.json.detail, r.json.error.message);
    }
  });

  it('GET /documents/status_counts, /track_status/{id} and /supported_file_types', async () => {
    const counts = await docs('GET /documents/status_counts');
    assert.equal(counts.statusCode, 200, counts.body);
    assert.equal(counts.json.status_counts.all, 5);
    assert.equal(counts.json.status_counts.pending, 0);
    const tracked = await docs('GET /documents/track_status/{track_id}', {
      pathParameters: { track_id: trackId },
    });
    assert.equal(tracked.statusCode, 200, tracked.body);
    assert.equal(tracked.json.track_id, trackId);
    assert.equal(tracked.json.total_count, 1);
    assert.deepEqual(tracked.json.status_summary, { processed: 1 });
    assert.deepEqual(Object.keys(tracked.json.documents[0]).sort(), DOC_FIELDS);
    const unknown = await docs('GET /documents/track_status/{track_id}', {
      pathParameters: { track_id: 'insert_none' },
    });
    assert.equal(unknown.json.total_count, 0);
    const types = await docs('GET /documents/supported_file_types');
    assert.equal(types.statusCode, 200);
    for (const ext of ['.pdf', '.docx', '.pptx', '.xlsx', '.html', '.md', '.txt'])
      assert.ok(types.json.supported_extensions.includes(ext), ext);
    assert.deepEqual(types.json.engines.unpdf, ['.pdf']);
    assert.deepEqual(types.json.engines.ooxml.sort(), ['.docx', '.pptx', '.xlsx']);
  });

  it('POST /documents/reprocess_failed and /scan queue failed documents again; clear_cache', async () => {
    await getDatabase().query(
      `UPDATE lightrag_doc_status SET status = 'failed', error_msg = 'provider outage'
        WHERE workspace = 'default' AND file_path = 'neon.txt'`,
    );
    const again = await docs('POST /documents/reprocess_failed');
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(Object.keys(again.json).sort(), ['message', 'status', 'track_id']);
    assert.equal(again.json.status, 'reprocessing_started');
    assert.match(again.json.message, /^1 document queued again/);
    await drain();
    const counts = await docs('GET /documents/status_counts');
    assert.equal(counts.json.status_counts.processed, 4, 'processed again');
    const scan = await docs('POST /documents/scan');
    assert.equal(scan.json.status, 'scanning_started');
    assert.match(scan.json.message, /^0 documents queued again/, 'the duplicate marker stays');
    const cleared = await docs('POST /documents/clear_cache', { body: {} });
    assert.equal(cleared.statusCode, 200, cleared.body);
    assert.equal(cleared.json.status, 'success');
    assert.match(cleared.json.message, /^Cleared \d+ cached LLM responses?\.$/);
    const { rows } = await getDatabase().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM lightrag_llm_cache WHERE workspace = 'default'`,
    );
    assert.equal(rows[0]!.n, 0);
  });

  /** A multipart/form-data body as a browser's FormData sends it. */
  function form(fields: Array<{ name: string; fileName?: string; type?: string; data: Buffer }>) {
    const boundary = '----lrs-form-boundary';
    const parts = fields.map((f) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"${
            f.fileName ? `; filename="${f.fileName}"` : ''
          }\r\n${f.type ? `Content-Type: ${f.type}\r\n` : ''}\r\n`,
        ),
        f.data,
        Buffer.from('\r\n'),
      ]),
    );
    const body = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
    // ASCII parts only: the harness base64-encodes rawBody (as API Gateway does a binary body).
    return {
      rawBody: body.toString('utf8'),
      base64: true,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    };
  }

  it("POST /documents/upload as LightRAG's form: the file inside the request, to the bucket", async () => {
    const file = Buffer.from('Xenon lights up flash lamps.');
    const res = await docs('POST /documents/upload', {
      ...form([{ name: 'file', fileName: 'xenon.txt', type: 'text/plain', data: file }]),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json).sort(), ['message', 'status', 'track_id']);
    assert.equal(res.json.status, 'success');
    const tracked = await docs('GET /documents/track_status/{track_id}', {
      pathParameters: { track_id: res.json.track_id },
    });
    const [doc] = tracked.json.documents;
    assert.equal(doc.file_path, 'xenon.txt');
    assert.equal(doc.status, 'pending');
    const key = doc.metadata.upload.key as string;
    const s3 = new S3Client({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'lightrag-docs-uploads', Key: key }),
    );
    s3.destroy();
    assert.equal(head.ContentLength, file.length);
    // The same name again: LightRAG's 409, whose detail the WebUI recognises.
    const again = await docs('POST /documents/upload', {
      ...form([{ name: 'file', fileName: 'xenon.txt', type: 'text/plain', data: file }]),
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.json.detail, /already contains/);
    // Too large for a request: 413 pointing to the presigned route.
    const big = await docs('POST /documents/upload', {
      ...form([{ name: 'file', fileName: 'big.txt', data: Buffer.alloc(4 * 1024 * 1024 + 1, 97) }]),
    });
    assert.equal(big.statusCode, 413, big.body);
    assert.match(big.json.detail, /presigned URL/);
    const noFile = await docs('POST /documents/upload', {
      ...form([{ name: 'note', data: Buffer.from('x') }]),
    });
    assert.equal(noFile.statusCode, 400);
    assert.match(noFile.json.detail, /field "file"/);
    // Our JSON ticket stays on the same path.
    const ticket = await docs('POST /documents/upload', {
      body: { fileName: 'radon.txt', size: 10, contentType: 'text/plain' },
    });
    assert.equal(ticket.statusCode, 201, ticket.body);
    assert.match(ticket.json.upload.url, /^http/);
  });

  it("keeps the workspace rules on LightRAG's routes", async () => {
    const other = await docs('GET /documents/status_counts', {
      headers: { 'x-workspace': 'tenant_a' },
    });
    assert.equal(other.json.status_counts.all, 0);
    const forbidden = await docs('GET /documents/status_counts', {
      headers: { 'x-workspace': 'tenant_b' },
    });
    assert.equal(forbidden.statusCode, 403);
    // LightRAG's own header names the workspace too; two different names conflict.
    const lightrag = await docs('GET /documents/status_counts', {
      headers: { 'lightrag-workspace': 'tenant_a' },
    });
    assert.equal(lightrag.json.status_counts.all, 0);
    const conflict = await docs('GET /documents/status_counts', {
      headers: { 'lightrag-workspace': 'tenant_a', 'x-workspace': 'default' },
    });
    assert.equal(conflict.statusCode, 400);
    assert.equal(conflict.json.error.code, 'WORKSPACE_CONFLICT');
  });

  const inTenant = (options: EventOptions = {}) => ({
    ...options,
    headers: { 'lightrag-workspace': 'tenant_a', ...options.headers },
  });

  it("GET /documents without our parameters: LightRAG's deprecated {statuses} shape", async () => {
    const res = await docs('GET /documents');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json), ['statuses']);
    const processed = res.json.statuses.PROCESSED as Array<Record<string, unknown>>;
    assert.ok(processed.some((d) => d.file_path === 'helium.txt'));
    assert.deepEqual(Object.keys(processed[0]!).sort(), DOC_FIELDS);
    for (const status of Object.keys(res.json.statuses)) assert.match(status, /^[A-Z]+$/);
    // Ours, with any of its parameters.
    const ours = await docs('GET /documents', { query: { page: '1' } });
    assert.ok(Array.isArray(ours.json.documents));
  });

  it('GET /documents/pipeline_status: the log ingest writes, busy from the documents', async () => {
    const idle = await docs('GET /documents/pipeline_status');
    assert.equal(idle.statusCode, 200, idle.body);
    assert.deepEqual(Object.keys(idle.json).sort(), [
      'batchs',
      'busy',
      'cancellation_requested',
      'cur_batch',
      'docs',
      'history_messages',
      'job_name',
      'job_start',
      'latest_message',
      'update_status',
    ]);
    assert.equal(idle.json.busy, false);
    const log = idle.json.history_messages.join('\n');
    assert.match(log, /\] Processing helium\.txt/);
    assert.match(log, /\] helium\.txt processed: 1 chunks/);
    assert.equal(idle.json.latest_message, idle.json.history_messages.at(-1));
    await docs('POST /documents/texts', inTenant({ body: { texts: ['Krypton is rare.'] } }));
    const busy = await docs('GET /documents/pipeline_status', inTenant());
    assert.equal(busy.json.busy, true);
    assert.equal(busy.json.docs, 1);
    assert.match(busy.json.job_name, /^Indexing 1 document$/);
    assert.ok(busy.json.job_start);
    // Another workspace's log is its own.
    assert.ok(!busy.json.history_messages.join('\n').includes('helium'));
    await drain();
    assert.equal((await docs('GET /documents/pipeline_status', inTenant())).json.busy, false);
  });

  it('POST /documents/cancel_pipeline: waiting documents end failed "User cancelled"; processed stay', async () => {
    const none = await docs('POST /documents/cancel_pipeline', inTenant());
    assert.deepEqual(Object.keys(none.json).sort(), ['message', 'status']);
    assert.equal(none.json.status, 'not_busy');
    const queued = await docs(
      'POST /documents/texts',
      inTenant({ body: { texts: ['Xenon lamps are bright.', 'Radon is radioactive.'] } }),
    );
    // Cancellation covers what was sent before it (the messages' send times).
    await new Promise((r) => setTimeout(r, 20));
    const cancel = await docs('POST /documents/cancel_pipeline', inTenant());
    assert.equal(cancel.json.status, 'cancellation_requested');
    const during = await docs('GET /documents/pipeline_status', inTenant());
    assert.equal(during.json.cancellation_requested, true);
    await drain();
    const tracked = await docs(
      `GET /documents/track_status/{track_id}`,
      inTenant({ pathParameters: { track_id: queued.json.track_id } }),
    );
    assert.deepEqual(
      tracked.json.documents.map((d: { status: string; error_msg: string }) => [
        d.status,
        d.error_msg,
      ]),
      [
        ['failed', 'User cancelled'],
        ['failed', 'User cancelled'],
      ],
    );
    // A reprocess after the cancellation is a new submission: it runs, though the flag stands.
    const xenon = tracked.json.documents.find((d: { content_summary: string }) =>
      d.content_summary.startsWith('Xenon'),
    ).id;
    const again = await docs('POST /documents/reprocess', inTenant({ body: { docIds: [xenon] } }));
    assert.equal(again.statusCode, 202, again.body);
    await drain();
    assert.equal(
      (await docs('GET /documents/{id}', inTenant({ pathParameters: { id: xenon } }))).json.status,
      'processed',
    );
    const after = await docs('GET /documents/pipeline_status', inTenant());
    assert.equal(after.json.cancellation_requested, false, 'ends with the run');
    assert.match(after.json.history_messages.join('\n'), /Cancellation requested/);
    assert.match(after.json.history_messages.join('\n'), /failed: User cancelled/);
    const counts = await docs('GET /documents/status_counts', inTenant());
    assert.equal(counts.json.status_counts.processed, 2, 'the one processed before stays');
    // Documents submitted after it run as usual.
    await docs('POST /documents/text', inTenant({ body: { text: 'Oganesson is synthetic.' } }));
    await drain();
    const later = await docs('GET /documents/status_counts', inTenant());
    assert.equal(later.json.status_counts.processed, 3);
  });

  it('DELETE /documents/delete_document: a JSON body, the deletion done in the background', async () => {
    const bad = await docs(
      'DELETE /documents/delete_document',
      inTenant({ body: { doc_ids: [] } }),
    );
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json.detail, /"doc_ids" must be a list of 1 to/);
    const page = await docs(
      'POST /documents/paginated',
      inTenant({ body: { status_filter: 'failed', page: 1, page_size: 10 } }),
    );
    const ids = page.json.documents.map((d: { id: string }) => d.id);
    assert.equal(ids.length, 1, 'the cancelled document not reprocessed');
    const res = await docs(
      'DELETE /documents/delete_document',
      inTenant({
        body: { doc_ids: [...ids, 'doc-missing'], delete_file: false, delete_llm_cache: true },
      }),
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json).sort(), ['doc_id', 'message', 'status']);
    assert.equal(res.json.status, 'deletion_started');
    await drain();
    const counts = await docs('GET /documents/status_counts', inTenant());
    assert.equal(counts.json.status_counts.failed, 0);
    assert.equal(counts.json.status_counts.processed, 3);
    const log = (await docs('GET /documents/pipeline_status', inTenant())).json.history_messages;
    assert.ok(
      log.some((l: string) => l.includes(`Deleted ${ids[0]}`)),
      log.join('\n'),
    );
  });

  it('DELETE /documents clears the workspace in the background; busy while documents wait', async () => {
    await docs('POST /documents/text', inTenant({ body: { text: 'Neon signs glow.' } }));
    const busy = await docs('DELETE /documents', inTenant());
    assert.equal(busy.statusCode, 200);
    assert.equal(busy.json.status, 'busy');
    await drain();
    const res = await docs('DELETE /documents', inTenant());
    assert.deepEqual(Object.keys(res.json).sort(), ['message', 'status']);
    assert.equal(res.json.status, 'success');
    await drain();
    const counts = await docs('GET /documents/status_counts', inTenant());
    assert.equal(counts.json.status_counts.all, 0);
    const labels = await call(
      (await import('../../functions/query.ts')).handler as Handler,
      'GET /graph/label/list',
      inTenant(),
    );
    assert.deepEqual(labels.json, []);
    // The default workspace is untouched.
    assert.ok((await docs('GET /documents/status_counts')).json.status_counts.processed > 0);
  });
});
