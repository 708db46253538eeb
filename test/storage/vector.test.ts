import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Config } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import type { Embedder } from '../../lib/embedding/types.ts';
import { DimensionMismatchError, ValidationError } from '../../lib/errors.ts';
import { ensureSchema } from '../../lib/storage/schema.ts';
import { VectorStorage } from '../../lib/storage/vector.ts';
import { EntityVectorStorage, RelationVectorStorage } from '../../lib/storage/vector-namespaces.ts';
import { computeMdhashId } from '../../lib/text.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';

const DIM = 32;
/** A unit vector at `angle` radians in the first two dimensions: cosine similarity = cos(angle). */
const at = (angle: number) => [Math.cos(angle), Math.sin(angle), ...Array(DIM - 2).fill(0)];

/** Counts embed calls, to prove what is (not) embedded. */
class CountingEmbedder implements Embedder {
  readonly name = 'counting';
  readonly dimension = DIM;
  calls = 0;
  texts = 0;
  readonly #inner = new HashEmbedder(DIM);
  async embed(texts: readonly string[]) {
    this.calls += 1;
    this.texts += texts.length;
    return this.#inner.embed(texts);
  }
}

describe(`vector storage on ${TARGET}`, () => {
  let db: Database;
  let config: Config;
  const embedder = new CountingEmbedder();
  const chunks = (ws = uniqueWorkspace(), cfg = config) =>
    new VectorStorage(db, 'chunks', cfg.vector, embedder, ws);
  const chunk = (id: string, vector?: number[], content = `text ${id}`) => ({
    id,
    content,
    full_doc_id: 'doc-1',
    chunk_order_index: 0,
    tokens: 2,
    file_path: 'f.txt',
    ...(vector ? { vector } : {}),
  });

  before(async () => {
    const target = await createTestDatabase({ COSINE_THRESHOLD: '0.2' });
    config = target.config;
    db = target.open();
    await ensureSchema(db, config.vector);
  });

  it('returns matches nearest first, above the cosine threshold only', async () => {
    const store = chunks();
    await store.upsert([
      chunk('far', at(1.5)), // cos ≈ 0.07 < 0.2: excluded
      chunk('mid', at(0.8)), // cos ≈ 0.70
      chunk('near', at(0.1)), // cos ≈ 0.995
      chunk('opposite', at(Math.PI)),
    ]);
    const matches = await store.queryByVector(at(0), 10);
    assert.deepEqual(
      matches.map((m) => m.id),
      ['near', 'mid'],
    );
    assert.ok(Math.abs(matches[0]!.distance - (1 - Math.cos(0.1))) < 1e-4);
    assert.equal(matches[0]!.full_doc_id, 'doc-1');
    assert.equal(matches[0]!.file_path, 'f.txt');
    assert.equal(typeof matches[0]!.created_at, 'number');
    assert.deepEqual(
      (await store.queryByVector(at(0), 1)).map((m) => m.id),
      ['near'],
    );
    assert.deepEqual(
      (await store.queryByVector(at(0), 10, { threshold: 0.9 })).map((m) => m.id),
      ['near'],
    );
  });

  it('embeds only records without a vector, in one call, and queries by text', async () => {
    const store = chunks();
    const calls = embedder.calls;
    await store.upsert([
      chunk('given', at(0)),
      chunk('a', undefined, 'the cat sat on the mat'),
      chunk('b', undefined, 'stock markets fell sharply'),
    ]);
    assert.equal(embedder.calls - calls, 1);
    const ranked = (await store.query('a cat on a mat', 3, { threshold: -1 })).map((m) => m.id);
    assert.ok(ranked.indexOf('a') < ranked.indexOf('b'), `lexical neighbour first: ${ranked}`);
  });

  it('reads rows and vectors back by id', async () => {
    const store = chunks();
    await store.upsert([chunk('v1', at(0.3)), chunk('v2', at(0.6))]);
    const vectors = await store.getVectorsByIds(['v2', 'missing', 'v1']);
    assert.deepEqual([...vectors.keys()].sort(), ['v1', 'v2']);
    for (const [i, x] of vectors.get('v2')!.entries()) assert.ok(Math.abs(x - at(0.6)[i]!) < 1e-6);
    const rows = await store.getByIds(['v1', 'missing']);
    assert.equal(rows[0]?.content, 'text v1');
    assert.equal(rows[1], null);
    assert.equal(await store.delete(['v1']), 1);
    assert.deepEqual([...(await store.filterKeys(['v1', 'v2']))], ['v1']);
  });

  it('checks dimensions and values before any SQL runs', async () => {
    const store = chunks();
    await store.upsert([chunk('keep', at(0))]);
    const before = db.stats().queries;
    await assert.rejects(store.upsert([chunk('short', [1, 2, 3])]), DimensionMismatchError);
    await assert.rejects(
      store.upsert([chunk('nan', [Number.NaN, ...Array(DIM - 1).fill(0)])]),
      /non-finite/,
    );
    await assert.rejects(
      store.upsert([chunk('inf', [Number.POSITIVE_INFINITY, ...Array(DIM - 1).fill(0)])]),
      ValidationError,
    );
    await assert.rejects(store.queryByVector([1, 0], 3), DimensionMismatchError);
    await assert.rejects(store.queryByVector(at(0), 0), /topK must be an integer from 1 to 1000/);
    await assert.rejects(store.queryByVector(at(0), 1001), ValidationError);
    await assert.rejects(store.queryByVector(at(0), 2.5), ValidationError);
    await assert.rejects(store.query(42 as never, 3), ValidationError);
    assert.equal(db.stats().queries, before, 'no statement was sent');
    assert.equal(await store.count(), 1);
    assert.throws(
      () => new VectorStorage(db, 'chunks', config.vector, new HashEmbedder(16), 'w'),
      DimensionMismatchError,
    );
  });

  it("stores entities and relations with LightRAG's columns and deletes them by name", async () => {
    const ws = uniqueWorkspace();
    const entities = new EntityVectorStorage(db, config.vector, embedder, ws);
    const relations = new RelationVectorStorage(db, config.vector, embedder, ws);
    await entities.upsert([
      {
        id: computeMdhashId('Alan Turing', 'ent-'),
        entity_name: 'Alan Turing',
        content: 'Alan Turing\nmathematician',
        source_id: 'chunk-1<SEP>chunk-2',
      },
      {
        id: computeMdhashId('Bletchley', 'ent-'),
        entity_name: 'Bletchley',
        content: 'Bletchley\nplace',
      },
    ]);
    await relations.upsert([
      {
        id: computeMdhashId('Alan TuringBletchley', 'rel-'),
        src_id: 'Alan Turing',
        tgt_id: 'Bletchley',
        content: 'worked at',
        source_id: 'chunk-1',
      },
      { id: 'rel-other', src_id: 'Bletchley', tgt_id: 'Enigma', content: 'broke' },
      { id: 'rel-unrelated', src_id: 'X', tgt_id: 'Y', content: 'z' },
    ]);
    const turing = await entities.getById(computeMdhashId('Alan Turing', 'ent-'));
    assert.deepEqual(turing?.chunk_ids, ['chunk-1', 'chunk-2']);
    assert.equal(turing?.entity_name, 'Alan Turing');
    const rel = await relations.getById(computeMdhashId('Alan TuringBletchley', 'rel-'));
    assert.equal(rel?.src_id, 'Alan Turing');
    assert.equal(rel?.tgt_id, 'Bletchley');
    assert.equal(await entities.deleteEntity('Alan Turing'), 1);
    assert.equal(await entities.count(), 1);
    assert.equal(await relations.deleteEntityRelation('Bletchley'), 2);
    assert.deepEqual(
      (await relations.getByIds(['rel-unrelated'])).map((r) => r?.id),
      ['rel-unrelated'],
    );
    // @ts-expect-error an operation of the relationships namespace is not on the entities class
    assert.equal(entities.deleteEntityRelation, undefined);
  });

  it('isolates workspaces in similarity search', async () => {
    const a = chunks(uniqueWorkspace('a'));
    const b = chunks(uniqueWorkspace('b'));
    await a.upsert([chunk('in-a', at(0))]);
    await b.upsert([chunk('in-b', at(0))]);
    assert.deepEqual(
      (await a.queryByVector(at(0), 5)).map((m) => m.id),
      ['in-a'],
    );
    assert.deepEqual(
      (await b.queryByVector(at(0), 5)).map((m) => m.id),
      ['in-b'],
    );
  });

  it('serves similarity queries from the HNSW index', async () => {
    const store = chunks();
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    const rows = Array.from({ length: 3000 }, (_, i) =>
      chunk(`r${i}`, Array.from({ length: DIM }, random)),
    );
    await store.upsert(rows);
    await db.query('ANALYZE lightrag_vdb_chunks');
    const plan = await store.explain(at(0), 10);
    assert.match(plan, /Index Scan using idx_lightrag_vdb_chunks_hnsw_cosine/, plan);
    assert.equal((await store.queryByVector(rows[7]!.vector!, 1))[0]?.id, 'r7');
  });

  it('searches in one transaction with its scan settings; a short result adds one exact query', async () => {
    const ws = uniqueWorkspace();
    const withSettings = chunks(ws, { ...config, vector: { ...config.vector, hnswEfSearch: 100 } });
    const bare = chunks(ws, {
      ...config,
      vector: { ...config.vector, iterativeScan: 'off', hnswEfSearch: undefined },
    });
    await withSettings.upsert([chunk('t', at(0))]);
    let before = db.stats().queries;
    assert.deepEqual(
      (await withSettings.queryByVector(at(0), 1)).map((m) => m.id),
      ['t'],
    );
    assert.equal(db.stats().queries - before, 3, 'BEGIN + SET LOCALs, SELECT, COMMIT');
    before = db.stats().queries;
    assert.deepEqual(
      (await bare.queryByVector(at(0), 1)).map((m) => m.id),
      ['t'],
    );
    assert.equal(db.stats().queries - before, 1, 'server defaults: no transaction');
    before = db.stats().queries;
    assert.deepEqual(
      (await bare.queryByVector(at(0), 3)).map((m) => m.id),
      ['t'],
    );
    assert.equal(db.stats().queries - before, 2, 'one row for top 3: the exact scan confirms it');
  });
});
