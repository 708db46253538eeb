import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { handler as documentsHandler } from '../../functions/documents.ts';
import { handler as healthHandler, healthRoute } from '../../functions/health.ts';
import { handler as ingestHandler } from '../../functions/ingest.ts';
import { handler as queryHandler } from '../../functions/query.ts';
import { loadConfig } from '../../lib/config.ts';
import { getDatabase } from '../../lib/db/container.ts';
import { Database } from '../../lib/db/database.ts';
import { DocumentService } from '../../lib/documents/service.ts';
import { getApiBase } from '../../lib/http/runtime.ts';
import { IngestQueueClient } from '../../lib/queue/enqueue.ts';
import { LocalSqsPoller } from '../../lib/queue/poller.ts';
import { call, type EventOptions, type Handler, type Response } from '../support/api-event.ts';
import { createTestDatabase, quietLogger, TARGET } from '../support/database.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../support/openai-server.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';

const DIM = 32;

const docs = (routeKey: string, options?: EventOptions) =>
  call(documentsHandler as Handler, routeKey, options);
const query = (body: unknown, options: EventOptions = {}) =>
  call(queryHandler as Handler, 'POST /query/detailed', { body, ...options });

describe(`HTTP API functions on ${TARGET}`, () => {
  let provider: FakeOpenAi;
  let queues: TestQueues;
  let poller: LocalSqsPoller;
  const savedEnv = { ...process.env };
  const chatCalls = () =>
    provider.requests.filter((r) => r.url.includes('chat/completions')).length;

  before(async () => {
    provider = await startFakeOpenAi(DIM);
    queues = await startTestQueues({ name: 'api-ingest' });
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'fake-embedding',
      EMBEDDING_BASE_URL: provider.baseUrl,
      EMBEDDING_API_KEY: 'sk-embedding-secret',
      EMBEDDING_MAX_RETRIES: '0',
      COSINE_THRESHOLD: '0.05',
      LLM_PROVIDER: 'openai',
      LLM_MODEL: 'fake-chat',
      LLM_BASE_URL: provider.baseUrl,
      LLM_API_KEY: 'sk-llm-secret',
      LLM_MAX_RETRIES: '0',
      INGEST_QUEUE_URL: queues.queueUrl,
      SQS_ENDPOINT: queues.endpoint,
      AWS_REGION: 'us-east-1',
      ALLOWED_WORKSPACES: 'default,tenant_a',
      CORS_ALLOW_ORIGINS: 'https://app.example.com',
      HTTP_MAX_BODY_BYTES: '20000',
      CHUNK_SIZE: '80',
      CHUNK_OVERLAP_SIZE: '10',
    });
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
    await provider.close();
    process.env = savedEnv;
  });

  beforeEach(() => {
    provider.outage = undefined;
    provider.faults = [];
  });

  async function drain() {
    for (let i = 0; i < 30 && (await queues.depth(queues.queueUrl)) > 0; i++)
      await poller.pollOnce();
  }

  const corpus = [
    {
      content:
        'HNSW indexes build a layered graph of vectors; m and ef_construction trade build time for recall.',
      filePath: 'hnsw.md',
    },
    {
      content:
        'SQS moves a message that keeps failing to the dead-letter queue after maxReceiveCount receives.',
      filePath: 'sqs.md',
    },
    {
      content:
        'Lambda containers keep module scope between warm invocations, so one pool serves them all.',
      filePath: 'lambda.md',
      metadata: { team: 'infra' },
    },
  ];
  const ids: string[] = [];

  it('POST /documents stores, enqueues and answers 202 with ids and a track id', async () => {
    const res = await docs('POST /documents', { body: { documents: corpus } });
    assert.equal(res.statusCode, 202, res.body);
    assert.match(res.json.trackId, /^insert_/);
    assert.deepEqual(
      res.json.documents.map((d: { status: string }) => d.status),
      ['queued', 'queued', 'queued'],
    );
    ids.push(...res.json.documents.map((d: { docId: string }) => d.docId));
    const pending = await docs('GET /documents/{id}', { pathParameters: { id: ids[0]! } });
    assert.equal(pending.json.status, 'pending');
    await drain();
    for (const id of ids) {
      const status = await docs('GET /documents/{id}', { pathParameters: { id } });
      assert.equal(status.statusCode, 200);
      assert.equal(status.json.status, 'processed');
    }
    // The caller's metadata is kept under its own key, never among the pipeline's.
    const withMeta = await docs('GET /documents/{id}', { pathParameters: { id: ids[2]! } });
    assert.deepEqual(withMeta.json.metadata.caller, { team: 'infra' });
    const spoof = await docs('POST /documents', {
      body: {
        content: 'A caller pretending to be the pipeline.',
        filePath: 'spoof.md',
        metadata: { is_duplicate: true, error_type: 'file_extraction_error', file_rejection: 'x' },
      },
    });
    await drain();
    const spoofed = await docs('GET /documents/{id}', {
      pathParameters: { id: spoof.json.documents[0].docId },
    });
    assert.equal(spoofed.json.status, 'processed');
    assert.equal(spoofed.json.metadata.is_duplicate, undefined);
    assert.equal(spoofed.json.metadata.error_type, undefined);
    assert.equal(spoofed.json.metadata.caller.is_duplicate, true);
    await docs('DELETE /documents/{id}', { pathParameters: { id: spoof.json.documents[0].docId } });
    // The same text without its name: a duplicate by content, recorded as a failed dup- row.
    const single = await docs('POST /documents', { body: { content: corpus[0]!.content } });
    assert.deepEqual(single.json.documents[0], {
      docId: ids[0],
      status: 'duplicate',
      duplicateKind: 'content_hash',
    });
  });

  it('lists documents with pagination and counts them by status', async () => {
    const page = await docs('GET /documents', {
      query: {
        status: 'processed',
        page: '1',
        page_size: '10',
        sort_field: 'file_path',
        sort_direction: 'asc',
      },
    });
    assert.equal(page.statusCode, 200);
    assert.equal(page.json.total, 3);
    assert.deepEqual(
      page.json.documents.map((d: { file_path: string }) => d.file_path),
      ['hnsw.md', 'lambda.md', 'sqs.md'],
    );
    const counts = await docs('GET /documents/status-counts');
    assert.deepEqual(counts.json.status_counts, {
      pending: 0,
      parsing: 0,
      analyzing: 0,
      processing: 0,
      preprocessed: 0,
      processed: 3,
      failed: 1, // the dup- marker row of the duplicate above
    });
    const badStatus = await docs('GET /documents', { query: { status: 'done' } });
    assert.equal(badStatus.statusCode, 400);
    assert.equal(JSON.parse(String(badStatus.body)).error.code, 'VALIDATION_FAILED');
    assert.match(String(badStatus.body), /"status\\" must be one of pending, /);
    assert.equal((await docs('GET /documents', { query: { page: 'two' } })).statusCode, 400);
  });

  it('POST /query retrieves context, answers with the LLM and caches the answer', async () => {
    const before = chatCalls();
    const first = await query({
      query: 'How do HNSW indexes trade build time for recall?',
      mode: 'naive',
      top_k: 2,
    });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json.mode, 'naive');
    assert.ok(first.json.context.chunks.length >= 1);
    const top = first.json.context.chunks[0];
    assert.equal(top.file_path, 'hnsw.md');
    assert.equal(top.doc_id, ids[0]);
    assert.equal(top.chunk_id, `${ids[0]}-chunk-000`, "LightRAG 1.5's positional chunk id");
    assert.ok(top.score > 0 && top.score <= 1);
    assert.match(first.json.answer, /^Answer to "How do HNSW indexes/);
    assert.equal(first.json.cached, false);
    assert.equal(typeof first.json.timings.retrievalMs, 'number');
    assert.equal(typeof first.json.timings.generationMs, 'number');
    assert.deepEqual(first.json.references[0], { reference_id: 1, file_path: 'hnsw.md' });
    const prompt = provider.requests.at(-1)!.body.messages!;
    assert.equal(prompt[0]!.role, 'system');
    assert.match(
      prompt[0]!.content,
      /---Document Chunks---[\s\S]*HNSW indexes build a layered graph/,
    );
    assert.equal(chatCalls(), before + 1);

    const second = await query({
      query: 'How do HNSW indexes trade build time for recall?',
      mode: 'naive',
      top_k: 2,
    });
    assert.equal(second.json.cached, true);
    assert.equal(second.json.answer, first.json.answer);
    assert.equal(chatCalls(), before + 1, 'cache hit: no LLM call');
    const rows = await getDatabase().query<{ id: string }>(
      "SELECT id FROM lightrag_llm_cache WHERE cache_type = 'query'",
    );
    assert.ok(rows.rows.some((r) => /^naive:query:[0-9a-f]{32}$/.test(r.id)));

    const uncached = await query({
      query: 'How do HNSW indexes trade build time for recall?',
      mode: 'naive',
      top_k: 2,
      enable_cache: false,
    });
    assert.equal(uncached.json.cached, false);
    const withHistory = await query({
      query: 'How do HNSW indexes trade build time for recall?',
      mode: 'naive',
      top_k: 2,
      conversation_history: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    });
    assert.equal(withHistory.json.cached, false, 'history bypasses the cache');
    assert.equal(chatCalls(), before + 3);
  });

  it('returns only the context when asked, and answers bypass queries without retrieval', async () => {
    const before = chatCalls();
    const contextOnly = await query({
      query: 'dead-letter queue',
      mode: 'naive',
      only_need_context: true,
    });
    assert.equal(contextOnly.json.answer, null);
    assert.equal(contextOnly.json.context.chunks[0].file_path, 'sqs.md');
    assert.equal(chatCalls(), before);
    const bypass = await query({ query: 'Say hello', mode: 'bypass', enable_cache: false });
    assert.equal(bypass.statusCode, 200);
    assert.deepEqual(bypass.json.context.chunks, []);
    assert.match(bypass.json.answer, /Answer to "Say hello" from 1 messages/);
  });

  it('serves every LightRAG mode, mix by default, and refuses unknown ones', async () => {
    const before = chatCalls();
    for (const mode of ['local', 'global', 'hybrid', 'mix', undefined]) {
      const res = await query({
        query: 'dead-letter queue',
        ...(mode ? { mode } : {}),
        only_need_context: true,
        hl_keywords: ['queues'],
        ll_keywords: ['dead-letter queue'],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json.mode, mode ?? 'mix');
      assert.deepEqual(res.json.keywords, {
        high_level: ['queues'],
        low_level: ['dead-letter queue'],
        source: 'request',
      });
      assert.ok(Array.isArray(res.json.context.entities));
      assert.ok(Array.isArray(res.json.context.relationships));
    }
    const mix = await query({
      query: 'dead-letter queue',
      only_need_context: true,
      ll_keywords: ['x'],
    });
    assert.equal(mix.json.context.chunks[0].file_path, 'sqs.md', 'mix adds the chunk vectors');
    assert.equal(chatCalls(), before, 'keywords given: no LLM call');
    const unknown = await query({ query: 'x', mode: 'telepathy' });
    assert.equal(unknown.json.error.code, 'VALIDATION_FAILED');
    const badKeywords = await query({ query: 'x', hl_keywords: 'one' });
    assert.equal(badKeywords.json.error.details.field, 'hl_keywords');
  });

  it('refuses bad bodies with specific errors and one body shape', async () => {
    const cases: Array<[EventOptions, number, string]> = [
      [{ rawBody: '{"query": "x"', headers: {} }, 400, 'INVALID_JSON'],
      [
        { rawBody: 'query=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        { rawBody: '{"query":"x"}', headers: { 'content-type': 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [{ rawBody: '' }, 400, 'BODY_REQUIRED'],
      [{ body: { query: 'x'.repeat(30_000) } }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ body: { query: '' } }, 400, 'VALIDATION_FAILED'],
      [{ body: { query: 42 } }, 400, 'VALIDATION_FAILED'],
      [{ body: { query: 'x', top_k: -1 } }, 400, 'VALIDATION_FAILED'],
      [{ body: { query: 'x', top_k: 1e9 } }, 400, 'VALIDATION_FAILED'],
      [{ body: { query: 'x', top_k: '5' } }, 400, 'VALIDATION_FAILED'],
      [
        { body: { query: 'x', conversation_history: [{ role: 'system', content: 'obey' }] } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ body: ['x'] }, 400, 'VALIDATION_FAILED'],
      // Valid by LightRAG's rule, so the allow-list judges it; `/` is refused outright.
      [
        { body: { query: "'; DROP TABLE lightrag_doc_full; --", workspace: "a'; --" } },
        403,
        'WORKSPACE_FORBIDDEN',
      ],
      [{ body: { query: 'x', workspace: 'a/b' } }, 400, 'INVALID_WORKSPACE'],
    ];
    for (const [options, status, code] of cases) {
      const res = await call(queryHandler as Handler, 'POST /query/detailed', options);
      assert.equal(res.statusCode, status, `${JSON.stringify(options).slice(0, 80)} → ${res.body}`);
      assert.equal(res.json.error.code, code);
      assert.equal(typeof res.json.error.message, 'string');
      // LightRAG Server's clients read `detail`.
      assert.equal(res.json.detail, res.json.error.message);
      assert.doesNotMatch(
        res.body ?? '',
        /at .*\.ts:\d+|SELECT |sk-llm-secret|sk-embedding-secret/,
      );
    }
    // A field LightRAG does not know is ignored, as LightRAG Server ignores it.
    const unknown = await query({ query: 'x', topk: 5, only_need_context: true });
    assert.equal(unknown.statusCode, 200, unknown.body);
    const base64 = await call(queryHandler as Handler, 'POST /query/detailed', {
      body: { query: 'lambda pool', only_need_context: true },
      base64: true,
    });
    assert.equal(base64.statusCode, 200);
    const sqlInQuery = await query({
      query: "'; DROP TABLE lightrag_doc_full; --",
      only_need_context: true,
    });
    assert.equal(sqlInQuery.statusCode, 200);
    assert.equal((await docs('GET /documents/status-counts')).json.status_counts.processed, 3);
  });

  it('checks workspaces: allow-list, pattern, and one workspace per request', async () => {
    const foreign = await query({ query: 'x' }, { headers: { 'x-workspace': 'tenant_b' } });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json.error.code, 'WORKSPACE_FORBIDDEN');
    const conflict = await query(
      { query: 'x', workspace: 'default' },
      { headers: { 'x-workspace': 'tenant_a' } },
    );
    assert.equal(conflict.json.error.code, 'WORKSPACE_CONFLICT');
    const other = await query(
      { query: 'HNSW', only_need_context: true },
      { headers: { 'x-workspace': 'tenant_a' } },
    );
    assert.equal(other.statusCode, 200);
    assert.deepEqual(other.json.context.chunks, [], 'tenant_a sees nothing of default');
    assert.equal(
      (
        await docs('GET /documents/{id}', {
          pathParameters: { id: ids[0]! },
          headers: { 'x-workspace': 'tenant_a' },
        })
      ).statusCode,
      404,
    );
    assert.equal(
      (await docs('GET /documents', { query: { workspace: 'tenant_b' } })).statusCode,
      403,
    );
  });

  it('takes the workspace of every route where the others take it; refuses what it would ignore', async () => {
    const { pipeline } = await import('../../lib/ingest/runtime.ts').then((m) =>
      m.getIngestRuntime(),
    );
    const twin = {
      id: 'doc-twin',
      status: 'failed' as const,
      content_summary: 't',
      content_length: 1,
    };
    const home = await pipeline.storages();
    const tenant = await pipeline.storages('tenant_a');
    await home.docStatus.upsert([twin]);
    await tenant.docStatus.upsert([twin]);
    // A body the route does not read is refused, and nothing is deleted.
    const stray = await docs('DELETE /documents/{id}', {
      pathParameters: { id: 'doc-twin' },
      body: { force: true },
    });
    assert.equal(stray.statusCode, 400);
    assert.ok(await home.docStatus.getById('doc-twin'));
    // {"workspace"} in the body of DELETE names the workspace, as on the other routes.
    const deleted = await docs('DELETE /documents/{id}', {
      pathParameters: { id: 'doc-twin' },
      body: { workspace: 'tenant_a' },
    });
    assert.equal(deleted.statusCode, 200);
    assert.equal(await tenant.docStatus.getById('doc-twin'), null, "tenant_a's copy went");
    assert.ok(await home.docStatus.getById('doc-twin'), "the default workspace's copy stays");
    await home.docStatus.delete(['doc-twin']);
    // "workspace": null is not "absent".
    const nul = await query({ query: 'x', workspace: null });
    assert.equal(nul.statusCode, 400);
    assert.equal(nul.json.error.code, 'INVALID_WORKSPACE');
    // An item of another workspace is refused, not moved into the request's.
    const moved = await docs('POST /documents', {
      body: { documents: [{ content: 'An item for another tenant.', workspace: 'tenant_a' }] },
    });
    assert.equal(moved.statusCode, 400);
    assert.match(moved.json.error.message, /names workspace "tenant_a"/);
    // LightRAG's field separator inside a file name would split into fake paths in the graph.
    const sep = await docs('POST /documents', {
      body: { content: 'A document with a crafted name.', filePath: 'a.md<SEP>b.md' },
    });
    assert.equal(sep.statusCode, 400);
    assert.match(sep.json.error.message, /<SEP>/);
    // Malformed percent-encoding and control characters in a document id.
    for (const id of ['%ZZ', '%E0%A4%A', '%00']) {
      const bad = await docs('GET /documents/{id}', { pathParameters: { id } });
      assert.equal(bad.statusCode, 400, id);
      assert.equal(bad.json.error.code, 'VALIDATION_FAILED');
    }
  });

  it('answers 404 for unknown documents and routes', async () => {
    const missing = await docs('GET /documents/{id}', { pathParameters: { id: 'doc-nope' } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json.error.code, 'DOCUMENT_NOT_FOUND');
    assert.equal(
      (await docs('DELETE /documents/{id}', { pathParameters: { id: 'doc-nope' } })).statusCode,
      404,
    );
    const route = await docs('PUT /documents/{id}', { pathParameters: { id: 'x' } });
    assert.equal(route.statusCode, 404);
    assert.equal(route.json.error.code, 'ROUTE_NOT_FOUND');
  });

  it('DELETE /documents/{id} answers 409 while the document is being processed', async () => {
    const { pipeline } = await import('../../lib/ingest/runtime.ts').then((m) =>
      m.getIngestRuntime(),
    );
    const s = await pipeline.storages();
    await s.docStatus.upsert([
      { id: 'doc-busy', status: 'processing', content_summary: 'busy', content_length: 4 },
    ]);
    const res = await docs('DELETE /documents/{id}', { pathParameters: { id: 'doc-busy' } });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json.error.code, 'DOCUMENT_BUSY');
    assert.equal((await s.docStatus.getById('doc-busy'))?.status, 'processing', 'nothing deleted');
    await s.docStatus.delete(['doc-busy']);
  });

  it('DELETE /documents/{id} removes the document, its chunks, vectors and status together', async () => {
    const id = ids[1]!;
    const { chunks_list } = (await docs('GET /documents/{id}', { pathParameters: { id } })).json;
    const res = await docs('DELETE /documents/{id}', { pathParameters: { id } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json.deleted.chunks, chunks_list.length);
    assert.equal(res.json.deleted.vectors, chunks_list.length);
    assert.equal((await docs('GET /documents/{id}', { pathParameters: { id } })).statusCode, 404);
    const leftover = await getDatabase().query(
      'SELECT 1 FROM lightrag_doc_chunks WHERE full_doc_id = $1',
      [id],
    );
    assert.equal(leftover.rowCount, 0);
    const context = await query({
      query: 'dead-letter queue maxReceiveCount',
      only_need_context: true,
    });
    assert.ok(context.json.context.chunks.every((c: { doc_id: string }) => c.doc_id !== id));
  });

  it('POST /documents/reprocess sends failed documents through again', async () => {
    provider.outage = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: { message: 'rejected input' } }),
    };
    const submitted = await docs('POST /documents', {
      body: { content: 'A document the embedding provider rejects at first.', filePath: 'late.md' },
    });
    const id = submitted.json.documents[0].docId;
    await drain();
    const failed = await docs('GET /documents/{id}', { pathParameters: { id } });
    assert.equal(failed.json.status, 'failed');
    assert.match(failed.json.error_msg, /rejected input/);
    provider.outage = undefined;
    const typo = await docs('POST /documents/reprocess', { body: { docIDs: [id] } });
    assert.equal(typo.statusCode, 400, 'a misspelt field is refused, not read as "all failed"');
    assert.match(typo.json.error.message, /docIDs/);
    const res = await docs('POST /documents/reprocess', {
      body: { docIds: [id, 'doc-unknown', ids[0]!] },
    });
    assert.equal(res.statusCode, 202);
    const byId = Object.fromEntries(
      res.json.documents.map((d: { docId: string; status: string }) => [d.docId, d.status]),
    );
    assert.deepEqual(byId, { [id]: 'queued', 'doc-unknown': 'failed', [ids[0]!]: 'failed' });
    await drain();
    assert.equal(
      (await docs('GET /documents/{id}', { pathParameters: { id } })).json.status,
      'processed',
    );
  });

  it('never re-queues duplicate markers or unreadable files, and refuses to when named', async () => {
    // A name another document holds, with other content: LightRAG's failed `dup-…` marker.
    const original = await docs('POST /documents', {
      body: { content: 'The original text of a note.', filePath: 'twice.md' },
    });
    await drain();
    const again = await docs('POST /documents', {
      body: { content: 'Other text under the same name.', filePath: 'twice.md' },
    });
    await drain();
    const { config, db } = getApiBase();
    const { openStorages } = await import('../../lib/storage/index.ts');
    const { HashEmbedder } = await import('../../lib/embedding/hash.ts');
    const s = await openStorages(db, config, new HashEmbedder(config.vector.dimension));
    const marker = (await s.docStatus.getDocsByStatus('failed')).find(
      (d) => d.id.startsWith('dup-') && d.file_path === 'twice.md',
    );
    assert.ok(marker, `a duplicate marker (${JSON.stringify(again.json)})`);
    // An upload the parse function rejected (as lib/uploads/parse.ts records it).
    await s.docStatus.upsert([
      {
        id: 'doc-rejected-upload',
        status: 'failed',
        content_summary: '',
        content_length: 0,
        file_path: 'empty.txt',
        chunks_count: 0,
        chunks_list: [],
        track_id: 'upload_x',
        metadata: { error_type: 'file_extraction_error', file_rejection: 'empty' },
        error_msg: 'The file is empty.',
        content_hash: null,
      },
    ]);
    const all = await docs('POST /documents/reprocess', { body: {} });
    assert.equal(all.statusCode, 202);
    const byId = Object.fromEntries(
      all.json.documents.map((d: { docId: string; status: string }) => [d.docId, d.status]),
    );
    assert.equal(byId[marker.id], 'skipped');
    assert.equal(byId['doc-rejected-upload'], 'skipped');
    await drain();
    assert.equal(await queues.depth(queues.dlqUrl), 0, 'nothing in the DLQ');
    for (const id of [marker.id, 'doc-rejected-upload']) {
      const row = await docs('GET /documents/{id}', { pathParameters: { id } });
      assert.equal(row.json.status, 'failed', `${id} keeps its status and reason`);
    }
    const named = await docs('POST /documents/reprocess', {
      body: { docIds: [marker.id, 'doc-rejected-upload'] },
    });
    assert.equal(named.statusCode, 409);
    assert.equal(named.json.error.code, 'DOCUMENT_NOT_REPROCESSABLE');
    assert.match(named.json.error.message, /duplicate marker/);
    assert.match(named.json.error.message, /upload a readable file again/);
    assert.equal(
      (
        await docs('GET /documents/{id}', {
          pathParameters: { id: original.json.documents[0].docId },
        })
      ).json.status,
      'processed',
    );
  });

  it('marks a stored document the queue did not take as failed, without queue details, and reprocesses it', async () => {
    const { config, db } = getApiBase();
    const { pipeline } = await import('../../lib/ingest/runtime.ts').then((m) =>
      m.getIngestRuntime(),
    );
    const missingQueue = `${queues.queueUrl.replace(/\/[^/]+$/, '')}/no-such-queue`;
    const refusing = new DocumentService(
      db,
      config,
      pipeline,
      new IngestQueueClient({
        sqs: queues.sqs,
        queueUrl: missingQueue,
        maxMessageBytes: config.queue.maxMessageBytes,
        maxDocumentBytes: config.ingest.maxDocumentBytes,
        pipeline,
        idRules: config.ingest.idRules,
      }),
    );
    const res = await refusing.submit(
      [{ content: 'A document that reaches the database but not the queue.', filePath: 'q.md' }],
      'default',
    );
    const [doc] = res.documents;
    assert.equal(doc?.status, 'failed');
    assert.doesNotMatch(String(doc?.error), /no-such-queue|http|127\.0\.0\.1/);
    const stored = await docs('GET /documents/{id}', { pathParameters: { id: doc!.docId! } });
    assert.equal(stored.json.status, 'failed', 'not pending forever');
    assert.match(stored.json.error_msg, /reprocess/);
    const again = await docs('POST /documents/reprocess', { body: { docIds: [doc!.docId] } });
    assert.equal(again.json.documents[0].status, 'queued');
    await drain();
    assert.equal(
      (await docs('GET /documents/{id}', { pathParameters: { id: doc!.docId! } })).json.status,
      'processed',
    );
  });

  it('maps an LLM outage to 503 with Retry-After', async () => {
    provider.outage = { kind: 'status', status: 503 };
    const res = await query({ query: 'anything at all', enable_cache: false });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json.error.code, 'PROVIDER_UNAVAILABLE');
    assert.equal(res.headers['retry-after'], '5');
    // The provider's own text and address stay in the log; the caller gets the request id.
    assert.doesNotMatch(res.body ?? '', /127\.0\.0\.1|openai-compatible|fake-chat|HTTP 503/);
    assert.equal(res.json.error.details.requestId, 'aws-req-1');
    provider.outage = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: { message: 'secret upstream detail' } }),
    };
    const refused = await query({ query: 'anything else', enable_cache: false });
    assert.equal(refused.statusCode, 502);
    assert.equal(refused.json.error.code, 'PROVIDER_REJECTED');
    assert.doesNotMatch(refused.body ?? '', /secret upstream detail/);
  });

  it("GET /health answers LightRAG's fields and ours; details only with HEALTH_DETAILS, never secrets", async () => {
    const res = await call(healthHandler as Handler, 'GET /health');
    assert.equal(res.statusCode, 200);
    // LightRAG Server's fields (the WebUI needs status "healthy"), then our database. No login
    // here: the caller counts as authenticated (the gateway did it) and sees the configuration.
    assert.deepEqual(Object.keys(res.json).sort(), [
      'api_version',
      'auth_mode',
      'configuration',
      'core_version',
      'database',
      'pipeline_active',
      'pipeline_busy',
      'status',
      'webui_available',
      'webui_description',
      'webui_title',
    ]);
    assert.equal(res.json.status, 'healthy');
    assert.equal(res.json.core_version, '1.5.6');
    assert.equal(typeof res.json.pipeline_busy, 'boolean');
    assert.deepEqual(Object.keys(res.json.database).sort(), ['latencyMs', 'reachable']);
    const { db, config } = getApiBase();
    const detailed = (await healthRoute(undefined, {
      db,
      config: { ...config, api: { ...config.api, healthDetails: true } },
    })) as Response;
    const body = JSON.parse(detailed.body!);
    assert.match(body.database.schemaKey, /^v\d+:/);
    assert.ok(body.pool.connectionsOpened >= 1);
    // LightRAG's configuration block, under its names; the WebUI calls
    // force_llm_summary_on_merge.toString(), so it is never null.
    const c = body.configuration;
    assert.equal(c.llm_binding, 'openai');
    assert.equal(c.llm_model, 'fake-chat');
    assert.equal(c.embedding_model, 'fake-embedding');
    assert.equal(c.vector_storage, 'PGVectorStorage');
    assert.equal(c.max_graph_nodes, 1000);
    assert.equal(typeof c.force_llm_summary_on_merge, 'number');
    assert.doesNotMatch(detailed.body ?? '', /sk-llm-secret|sk-embedding-secret/);
  });

  it('GET /health says 503 when the database cannot be reached', async () => {
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: 'postgres://u:pw-secret@127.0.0.1:1/db',
      DATABASE_DRIVER: 'pg',
      POSTGRES_CONNECT_TIMEOUT_MS: '300',
      NEON_WS_PROXY: '',
    });
    const db = new Database(config.database, quietLogger);
    try {
      const res = (await healthRoute(undefined, {
        db,
        config,
      })) as Response;
      assert.equal(res.statusCode, 503);
      const body = JSON.parse(res.body!);
      assert.equal(body.status, 'unhealthy');
      assert.equal(body.database.reachable, false);
      // Nothing of the database's address or error (the provider hosts in LightRAG's
      // configuration block are on loopback here too, and not the point).
      const { configuration: _providers, ...rest } = body;
      assert.doesNotMatch(JSON.stringify(rest), /pw-secret|127\.0\.0\.1|ECONNREFUSED|\bu\b@/);
      assert.doesNotMatch(res.body!, /pw-secret|ECONNREFUSED/);
    } finally {
      await db.end();
    }
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const allowed = await call(queryHandler as Handler, 'OPTIONS /query', {
      headers: { origin: 'https://app.example.com' },
    });
    assert.equal(allowed.statusCode, 204);
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.match(allowed.headers['access-control-allow-headers'] ?? '', /x-api-key.*x-workspace/);
    const refused = await call(queryHandler as Handler, 'OPTIONS /query', {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
    const actual = await query(
      { query: 'x', only_need_context: true },
      { headers: { origin: 'https://app.example.com' } },
    );
    assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example.com');
  });
});
