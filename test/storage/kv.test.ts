import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Database } from '../../lib/db/database.ts';
import { InvalidWorkspaceError, ValidationError } from '../../lib/errors.ts';
import { FullDocsStorage, LlmCacheStorage, TextChunksStorage } from '../../lib/storage/kv.ts';
import { ensureSchema } from '../../lib/storage/schema.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';

describe(`key-value storages on ${TARGET}`, () => {
  let db: Database;
  before(async () => {
    const target = await createTestDatabase();
    db = target.open();
    await ensureSchema(db, target.config.vector);
  });

  const chunk = (id: string, order: number, content = `chunk ${id}`) => ({
    id,
    content,
    full_doc_id: 'doc-1',
    chunk_order_index: order,
    tokens: content.split(' ').length,
    file_path: 'a.txt',
  });

  it('implements get/filter/delete/isEmpty/drop with LightRAG semantics', async () => {
    const docs = new FullDocsStorage(db, uniqueWorkspace());
    assert.equal(await docs.isEmpty(), true);
    assert.equal(
      await docs.upsert([
        { id: 'doc-a', content: 'alpha', file_path: 'a.md', meta: { lang: 'en' } },
        { id: 'doc-b', content: 'beta' },
      ]),
      2,
    );
    assert.equal(await docs.isEmpty(), false);
    const a = await docs.getById('doc-a');
    assert.equal(a?.content, 'alpha');
    assert.equal(a?.file_path, 'a.md');
    assert.deepEqual(a?.meta, { lang: 'en' });
    assert.equal(typeof a?.create_time, 'number');
    assert.ok(
      Math.abs(a!.create_time - Date.now() / 1000) < 120,
      'create_time is unix seconds, UTC',
    );
    assert.equal(await docs.getById('missing'), null);
    // getByIds keeps order and yields null for missing ids, duplicates included.
    const many = await docs.getByIds(['doc-b', 'nope', 'doc-a', 'doc-b']);
    assert.deepEqual(
      many.map((d) => d?.id ?? null),
      ['doc-b', null, 'doc-a', 'doc-b'],
    );
    assert.deepEqual(await docs.getByIds([]), []);
    // filterKeys returns the keys NOT stored.
    assert.deepEqual([...(await docs.filterKeys(['doc-a', 'doc-x', 'doc-y', 'doc-x']))].sort(), [
      'doc-x',
      'doc-y',
    ]);
    assert.equal(await docs.delete(['doc-a', 'doc-zzz']), 1);
    assert.equal(await docs.count(), 1);
    assert.equal(await docs.drop(), 1);
    assert.equal(await docs.isEmpty(), true);
  });

  it('re-upserts idempotently, updating fields and update_time but not create_time', async () => {
    const chunks = new TextChunksStorage(db, uniqueWorkspace());
    await chunks.upsert([chunk('c1', 0)]);
    const first = await chunks.getById('c1');
    await db.query(
      "UPDATE lightrag_doc_chunks SET create_time = create_time - interval '1 hour', update_time = update_time - interval '1 hour' WHERE id = 'c1'",
    );
    await chunks.upsert([
      { ...chunk('c1', 0, 'new text'), llm_cache_list: ['default:extract:abc'] },
    ]);
    await chunks.upsert([
      { ...chunk('c1', 0, 'new text'), llm_cache_list: ['default:extract:abc'] },
    ]);
    const second = await chunks.getById('c1');
    assert.equal(await chunks.count(), 1);
    assert.equal(second?.content, 'new text');
    assert.deepEqual(second?.llm_cache_list, ['default:extract:abc']);
    assert.ok(second!.create_time < first!.create_time - 3000, 'create_time kept');
    assert.ok(second!.update_time >= first!.update_time, 'update_time moved');
  });

  it("fills LightRAG 1.5's content_hash and parse_format on documents", async () => {
    const ws = uniqueWorkspace();
    await new FullDocsStorage(db, ws).upsert([{ id: 'doc-h', content: 'hello world' }]);
    const { rows } = await db.query(
      'SELECT content_hash, parse_format, chunk_options FROM lightrag_doc_full WHERE workspace = $1',
      [ws],
    );
    // md5('hello world'), as LightRAG computes it for a text body.
    assert.deepEqual(rows, [
      { content_hash: '5eb63bbbe01eeed093cb22bb8f5acdc3', parse_format: 'raw', chunk_options: {} },
    ]);
  });

  it('collapses duplicate ids in one batch, last wins', async () => {
    const chunks = new TextChunksStorage(db, uniqueWorkspace());
    const written = await chunks.upsert([
      chunk('d', 0, 'first'),
      chunk('e', 1),
      chunk('d', 0, 'last'),
    ]);
    assert.equal(written, 2);
    assert.equal((await chunks.getById('d'))?.content, 'last');
  });

  it('upserts 10,000 rows in one call and reads them back by document', async () => {
    const chunks = new TextChunksStorage(db, uniqueWorkspace());
    const rows = Array.from({ length: 10_000 }, (_, i) =>
      chunk(`c-${i}`, i, `content number ${i} ${'x'.repeat(100)}`),
    );
    const queriesBefore = db.stats().queries;
    assert.equal(await chunks.upsert(rows), 10_000);
    assert.ok(db.stats().queries - queriesBefore <= 3, 'one statement per batch, not per row');
    assert.equal(await chunks.count(), 10_000);
    const byDoc = await chunks.getByDocId('doc-1');
    assert.equal(byDoc.length, 10_000);
    assert.equal(byDoc[9_999]?.chunk_order_index, 9_999);
  });

  it('isolates workspaces: A never reads, counts or deletes B', async () => {
    const a = new FullDocsStorage(db, uniqueWorkspace('a'));
    const b = new FullDocsStorage(db, uniqueWorkspace('b'));
    await a.upsert([{ id: 'same', content: 'from A' }]);
    await b.upsert([{ id: 'same', content: 'from B' }]);
    assert.equal((await a.getById('same'))?.content, 'from A');
    assert.equal((await b.getById('same'))?.content, 'from B');
    assert.equal(await a.drop(), 1);
    assert.equal(await a.count(), 0);
    assert.equal(await b.count(), 1);
    assert.equal(await a.delete(['same']), 0);
    assert.deepEqual([...(await a.filterKeys(['same']))], ['same']);
    assert.deepEqual([...(await b.filterKeys(['same']))], []);
  });

  it('stores text with NUL bytes and lone surrogates by removing NUL and replacing surrogates', async () => {
    const docs = new FullDocsStorage(db, uniqueWorkspace());
    await docs.upsert([
      {
        id: 'nul',
        content: 'a\u0000b\uD800c',
        file_path: 'x\u0000.txt',
        meta: { 'k\u0000': 'v\u0000', s: '\uDC00' },
      },
    ]);
    const stored = await docs.getById('nul');
    assert.equal(stored?.content, 'ab\uFFFDc');
    assert.equal(stored?.file_path, 'x.txt');
    assert.deepEqual(stored?.meta, { k: 'v', s: '\uFFFD' });
  });

  it('treats SQL in values as data', async () => {
    const cache = new LlmCacheStorage(db, uniqueWorkspace());
    const hostile = "'); DROP TABLE lightrag_llm_cache; --";
    await cache.upsert([
      {
        id: 'naive:query:1',
        return: hostile,
        original_prompt: hostile,
        cache_type: 'query',
        queryparam: { [hostile]: hostile },
      },
    ]);
    const entry = await cache.getById('naive:query:1');
    assert.equal(entry?.return, hostile);
    assert.deepEqual(entry?.queryparam, { [hostile]: hostile });
    assert.equal(entry?.cache_type, 'query');
  });

  it('refuses bad input before any SQL runs, losing nothing stored', async () => {
    const chunks = new TextChunksStorage(db, uniqueWorkspace());
    await chunks.upsert([chunk('keep', 0)]);
    const bad: unknown[] = [
      [{ ...chunk('x', 0), content: 42 }],
      [{ ...chunk('x', 0), tokens: -1 }],
      [{ ...chunk('x', 0), chunk_order_index: 1.5 }],
      [{ ...chunk('x', 0), llm_cache_list: 'nope' }],
      [{ ...chunk('', 0) }],
      [{ ...chunk('x'.repeat(256), 0) }],
      [{ ...chunk('a\u0000b', 0) }],
      [chunk('ok', 0), { ...chunk('keep', 0), content: null }],
    ];
    for (const records of bad) {
      await assert.rejects(
        chunks.upsert(records as never),
        ValidationError,
        JSON.stringify(records).slice(0, 80),
      );
    }
    assert.equal(await chunks.count(), 1);
    assert.equal((await chunks.getById('keep'))?.content, 'chunk keep');
    await assert.rejects(chunks.getByIds([7 as never]), ValidationError);
    const cache = new LlmCacheStorage(db, uniqueWorkspace());
    await assert.rejects(
      cache.upsert([{ id: 'c', return: 'r', cache_type: 'x'.repeat(33) }]),
      /limited to 32/,
    );
  });

  it("refuses what LightRAG's workspace rule refuses, and keeps SQL-like names as data", async () => {
    for (const ws of [
      '../x',
      'a\\b',
      '.',
      '..',
      '',
      'ws\u0000',
      'a\nb',
      '\ud800',
      'w'.repeat(256),
    ]) {
      assert.throws(() => new FullDocsStorage(db, ws), InvalidWorkspaceError, JSON.stringify(ws));
    }
    // A name LightRAG stores is a workspace here too, always a bind parameter.
    const hostile = new FullDocsStorage(db, "x' OR '1'='1; DROP TABLE lightrag_doc_full;--");
    await hostile.upsert([{ id: 'doc-h', content: 'kept as data' }]);
    assert.equal((await hostile.getById('doc-h'))?.content, 'kept as data');
    const dotted = new FullDocsStorage(db, 'team.v1 ünïcode');
    assert.equal(await dotted.isEmpty(), true, 'workspaces never see each other');
  });
});
