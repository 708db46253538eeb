/**
 * Rows shaped exactly as LightRAG 1.5.6 writes them (LIGHTRAG-1.5.md §1, §4, §5) — 1.5 ids, a
 * `parsing` row with chunks_count -1 and no content_hash, a `dup-…` marker row, microsecond
 * timestamps — read through every documents route and a query, and deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handler as documentsHandler } from '../../functions/documents.ts';
import { handler as queryHandler } from '../../functions/query.ts';
import { loadConfig } from '../../lib/config.ts';
import { getDatabase } from '../../lib/db/container.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { ensureSchema } from '../../lib/storage/schema.ts';
import { md5 } from '../../lib/text.ts';
import { call, type EventOptions, type Handler } from '../support/api-event.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';

const DIM = 32;
const docs = (routeKey: string, options?: EventOptions) =>
  call(documentsHandler as Handler, routeKey, options);

const DOC_ID = 'doc-5c6813f49dfba292cc1008edce1c90e2'; // md5('report.pdf')
const CHUNK_ID = `${DOC_ID}-chunk-000`;
const BODY = 'HNSW builds a layered proximity graph over the stored vectors.';
const PARSING_ID = `doc-${md5('scan.pdf')}`;
const DUP_ID = `dup-${md5(`${DOC_ID}-upload_20260501_100500_cafebabe-0-report.pdf`)}`;

describe(`rows written by LightRAG 1.5 on ${TARGET}`, () => {
  const savedEnv = { ...process.env };

  before(async () => {
    const target = await createTestDatabase({ EMBEDDING_DIM: String(DIM), COSINE_THRESHOLD: '0' });
    Object.assign(process.env, target.env);
    const db = getDatabase();
    const config = loadConfig(target.env);
    await ensureSchema(db, config.vector);
    const [vector] = await new HashEmbedder(DIM).embed([BODY]);
    // As PGKVStorage / PGVectorStorage / PGDocStatusStorage write them (§1.1-1.3, §2.3).
    await db.query(
      `INSERT INTO lightrag_doc_full (id, workspace, doc_name, content, parse_format, content_hash, chunk_options)
       VALUES ($1, 'default', 'report.pdf', $2, 'raw', $3, '{"chunk_token_size": 1200}')`,
      [DOC_ID, BODY, md5(BODY)],
    );
    await db.query(
      `INSERT INTO lightrag_doc_chunks (id, workspace, full_doc_id, chunk_order_index, tokens, content,
         file_path, llm_cache_list, heading, sidecar, create_time, update_time)
       VALUES ($1, 'default', $2, 0, 12, $3, 'report.pdf', '[]', '{}', '{}',
         '2026-05-01 10:00:01', '2026-05-01 10:00:01')`,
      [CHUNK_ID, DOC_ID, BODY],
    );
    await db.query(
      `INSERT INTO lightrag_vdb_chunks (id, workspace, full_doc_id, chunk_order_index, tokens, content,
         content_vector, file_path, create_time, update_time)
       VALUES ($1, 'default', $2, 0, 12, $3, $4::vector, 'report.pdf', '2026-05-01 10:00:01', '2026-05-01 10:00:01')`,
      [CHUNK_ID, DOC_ID, BODY, `[${vector!.join(',')}]`],
    );
    const status = `INSERT INTO lightrag_doc_status (workspace, id, content_summary, content_length,
        chunks_count, status, file_path, chunks_list, track_id, metadata, error_msg, content_hash,
        created_at, updated_at) VALUES ('default', $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11,
        '2026-05-01 10:00:00.123456', '2026-05-01 10:00:02.654321')`;
    await db.query(status, [
      DOC_ID,
      BODY,
      BODY.length,
      1,
      'processed',
      'report.pdf',
      JSON.stringify([CHUNK_ID]),
      'upload_20260501_100000_deadbeef',
      JSON.stringify({ kg_write_state: 'post_graph' }),
      null,
      md5(BODY),
    ]);
    // Still being parsed by a LightRAG worker: no content yet, chunks_count -1, hash unknown.
    await db.query(status, [
      PARSING_ID,
      '',
      0,
      -1,
      'parsing',
      'scan.pdf',
      '[]',
      'upload_20260501_100400_feedface',
      JSON.stringify({ parse_start_time: 1777629840 }),
      null,
      null,
    ]);
    await db.query(status, [
      DUP_ID,
      `[DUPLICATE:filename] Original document: ${DOC_ID}`,
      BODY.length,
      0,
      'failed',
      'report.pdf',
      '[]',
      'upload_20260501_100500_cafebabe',
      JSON.stringify({
        is_duplicate: true,
        duplicate_kind: 'filename',
        original_doc_id: DOC_ID,
        original_track_id: 'upload_20260501_100000_deadbeef',
      }),
      'File name already exists.',
      null,
    ]);
  });

  after(async () => {
    await getDatabase().end();
    process.env = savedEnv;
  });

  it('counts, filters and lists every status, with -1 chunks and NULL hashes', async () => {
    const counts = await docs('GET /documents/status-counts');
    assert.equal(counts.statusCode, 200, counts.body);
    assert.deepEqual(counts.json.status_counts, {
      pending: 0,
      parsing: 1,
      analyzing: 0,
      processing: 0,
      preprocessed: 0,
      processed: 1,
      failed: 1,
    });
    const parsing = await docs('GET /documents', { query: { status: 'parsing' } });
    assert.equal(parsing.statusCode, 200, parsing.body);
    assert.deepEqual(
      parsing.json.documents.map((d: { id: string; chunks_count: number; content_hash: null }) => [
        d.id,
        d.chunks_count,
        d.content_hash,
      ]),
      [[PARSING_ID, -1, null]],
    );
    const all = await docs('GET /documents', { query: { sort_field: 'created_at' } });
    assert.equal(all.json.total, 3);
  });

  it('gets a dup- marker row and a processed document with microsecond timestamps', async () => {
    const dup = await docs('GET /documents/{id}', { pathParameters: { id: DUP_ID } });
    assert.equal(dup.statusCode, 200, dup.body);
    assert.equal(dup.json.metadata.is_duplicate, true);
    assert.equal(dup.json.metadata.original_doc_id, DOC_ID);
    const doc = await docs('GET /documents/{id}', { pathParameters: { id: DOC_ID } });
    assert.equal(doc.json.created_at, '2026-05-01T10:00:00+00:00');
    assert.deepEqual(doc.json.chunks_list, [CHUNK_ID]);
  });

  it('retrieves the chunk LightRAG stored', async () => {
    const res = await call(queryHandler as Handler, 'POST /query/detailed', {
      body: { query: BODY, mode: 'naive', only_need_context: true },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json.context.chunks[0].file_path, 'report.pdf');
    assert.equal(res.json.context.chunks[0].content, BODY);
  });

  it('refuses to delete a document LightRAG is parsing, and deletes one it processed', async () => {
    const touched = (at: string) =>
      getDatabase().query(`UPDATE lightrag_doc_status SET updated_at = ${at} WHERE id = $1`, [
        PARSING_ID,
      ]);
    // Its worker's lease runs (WORK_LEASE_SECONDS after the row last changed): busy.
    await touched(`(now() AT TIME ZONE 'UTC')`);
    const busy = await docs('DELETE /documents/{id}', { pathParameters: { id: PARSING_ID } });
    assert.equal(busy.statusCode, 409, busy.body);
    assert.equal(busy.json.error.code, 'DOCUMENT_BUSY');
    assert.match(busy.json.error.message, /WORK_LEASE_SECONDS/);
    // Left parsing for months (the fixture's time): its worker is gone, the document may go.
    await touched(`'2026-05-01 10:04:00'`);
    const stuck = await docs('DELETE /documents/{id}', { pathParameters: { id: PARSING_ID } });
    assert.equal(stuck.statusCode, 200, stuck.body);
    const deleted = await docs('DELETE /documents/{id}', { pathParameters: { id: DOC_ID } });
    assert.equal(deleted.statusCode, 200, deleted.body);
    const { rows } = await getDatabase().query<{ n: number }>(
      `SELECT (SELECT count(*) FROM lightrag_doc_chunks WHERE full_doc_id = $1)
            + (SELECT count(*) FROM lightrag_vdb_chunks WHERE full_doc_id = $1)
            + (SELECT count(*) FROM lightrag_doc_full WHERE id = $1) AS n`,
      [DOC_ID],
    );
    assert.equal(Number(rows[0]!.n), 0);
  });
});
