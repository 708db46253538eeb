import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Database } from '../../lib/db/database.ts';
import { ValidationError } from '../../lib/errors.ts';
import { type DocStatusRecord, DocStatusStorage } from '../../lib/storage/doc-status.ts';
import { ensureSchema } from '../../lib/storage/schema.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';

const status = (id: string, fields: Partial<DocStatusRecord> = {}): DocStatusRecord => ({
  id,
  status: 'pending',
  content_summary: `summary ${id}`,
  content_length: 10,
  file_path: `${id}.txt`,
  ...fields,
});

describe(`document status storage on ${TARGET}`, () => {
  let db: Database;
  before(async () => {
    const target = await createTestDatabase();
    db = target.open();
    await ensureSchema(db, target.config.vector);
  });

  it("stores LightRAG's fields and keeps created_at across updates", async () => {
    const store = new DocStatusStorage(db, uniqueWorkspace());
    await store.upsert([
      status('doc-1', {
        track_id: 'insert_1',
        metadata: { source: 'api' },
        created_at: '2026-01-02T03:04:05Z',
        updated_at: '2026-01-02T03:04:05Z',
      }),
    ]);
    const first = await store.getById('doc-1');
    assert.equal(first?.created_at, '2026-01-02T03:04:05+00:00');
    assert.equal(first?.status, 'pending');
    assert.deepEqual(first?.metadata, { source: 'api' });
    assert.deepEqual(first?.chunks_list, []);
    await store.upsert([
      status('doc-1', {
        status: 'processed',
        chunks_count: 2,
        chunks_list: ['chunk-a', 'chunk-b'],
        track_id: 'insert_1',
      }),
    ]);
    const second = await store.getById('doc-1');
    assert.equal(second?.status, 'processed');
    assert.equal(second?.chunks_count, 2);
    assert.deepEqual(second?.chunks_list, ['chunk-a', 'chunk-b']);
    assert.equal(second?.created_at, '2026-01-02T03:04:05+00:00', 'created_at kept');
    assert.ok(
      Date.parse(second!.updated_at) > Date.parse('2026-06-01T00:00:00Z'),
      'updated_at moved to now',
    );
    assert.ok(Math.abs(Date.parse(second!.updated_at) - Date.now()) < 120_000, 'updated_at is UTC');
  });

  it('counts by status and lists by status and track id', async () => {
    const store = new DocStatusStorage(db, uniqueWorkspace());
    await store.upsert([
      status('a', { status: 'processed', track_id: 't1' }),
      status('b', { status: 'processed', track_id: 't1' }),
      status('c', { status: 'failed', error_msg: 'embedding provider said 400', track_id: 't2' }),
      status('d', { status: 'processing' }),
    ]);
    assert.deepEqual(await store.getStatusCounts(), {
      pending: 0,
      parsing: 0,
      analyzing: 0,
      processing: 1,
      preprocessed: 0,
      processed: 2,
      failed: 1,
    });
    assert.deepEqual((await store.getDocsByStatus('processed')).map((d) => d.id).sort(), [
      'a',
      'b',
    ]);
    const failed = await store.getDocsByStatus('failed');
    assert.equal(failed[0]?.error_msg, 'embedding provider said 400');
    assert.deepEqual((await store.getDocsByTrackId('t1')).map((d) => d.id).sort(), ['a', 'b']);
    assert.deepEqual(await store.getDocsByTrackId('none'), []);
    await assert.rejects(store.getDocsByStatus('done' as never), ValidationError);
  });

  it("paginates by LightRAG's rules", async () => {
    const store = new DocStatusStorage(db, uniqueWorkspace());
    const docs = Array.from({ length: 25 }, (_, i) =>
      status(`doc-${String(i).padStart(2, '0')}`, {
        status: i % 5 === 0 ? 'failed' : 'processed',
        created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        updated_at: new Date(Date.UTC(2026, 0, 1, 0, 60 - i)).toISOString(),
      }),
    );
    await store.upsert(docs);
    const first = await store.getDocsPaginated({
      page: 1,
      pageSize: 10,
      sortField: 'created_at',
      sortDirection: 'asc',
    });
    assert.equal(first.total, 25);
    assert.deepEqual(first.documents.map((d) => d.id).slice(0, 3), ['doc-00', 'doc-01', 'doc-02']);
    const third = await store.getDocsPaginated({
      page: 3,
      pageSize: 10,
      sortField: 'created_at',
      sortDirection: 'asc',
    });
    assert.deepEqual(
      third.documents.map((d) => d.id),
      ['doc-20', 'doc-21', 'doc-22', 'doc-23', 'doc-24'],
    );
    // Defaults: updated_at desc; page size clamped to 10..200; unknown sort field/direction fall back.
    const defaults = await store.getDocsPaginated({
      pageSize: 3,
      sortField: 'content; DROP TABLE x',
      sortDirection: 'sideways',
    });
    assert.equal(defaults.pageSize, 10);
    assert.equal(defaults.documents[0]?.id, 'doc-00', 'largest updated_at first');
    assert.equal((await store.getDocsPaginated({ pageSize: 1000 })).pageSize, 200);
    assert.equal((await store.getDocsPaginated({ page: -4 })).page, 1);
    const failed = await store.getDocsPaginated({
      status: 'failed',
      sortField: 'id',
      sortDirection: 'asc',
    });
    assert.equal(failed.total, 5);
    assert.deepEqual(
      failed.documents.map((d) => d.id),
      ['doc-00', 'doc-05', 'doc-10', 'doc-15', 'doc-20'],
    );
    const beyond = await store.getDocsPaginated({ page: 99 });
    assert.deepEqual(beyond.documents, []);
    assert.equal(beyond.total, 25);
  });

  it('refuses invalid statuses and fields, changing nothing', async () => {
    const store = new DocStatusStorage(db, uniqueWorkspace());
    await store.upsert([status('keep')]);
    for (const bad of [
      status('x', { status: 'done' as never }),
      status('x', { content_length: -1 }),
      status('x', { chunks_list: 'a' as never }),
      status('x', { created_at: 'yesterday' }),
      status('x', { track_id: 'x'.repeat(256) }),
      { ...status('x'), content_summary: undefined as never },
    ]) {
      await assert.rejects(store.upsert([bad]), ValidationError);
    }
    assert.equal(await store.count(), 1);
  });
});
