/**
 * Vector search where tenants share a table: one large workspace beside medium, small and tiny
 * ones, every vector table and index type. pgvector filters `workspace = …` after the
 * approximate index scan, so without iterative scans and the exact fallback a small workspace
 * gets a fraction of its rows. Each search must return `k` rows whenever the workspace holds
 * `k`, and the exact top `k` for the small ones.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { ensureSchema } from '../../lib/storage/schema.ts';
import type { VectorNamespace } from '../../lib/storage/tables.ts';
import { VectorStorage } from '../../lib/storage/vector.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';

const DIM = 16;
const K = 10;
/** Rows per workspace: one large tenant and three far smaller ones in the same table. */
const SIZES = { large: 4000, medium: 300, small: 40, tiny: 6 } as const;
type Tenant = keyof typeof SIZES;

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

const cosineDistance = (a: readonly number[], b: readonly number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / Math.sqrt(na * nb);
};

function record(namespace: VectorNamespace, id: string, vector: number[]) {
  const base = { id, content: `content ${id}`, vector };
  if (namespace === 'chunks')
    return { ...base, full_doc_id: 'doc-1', chunk_order_index: 0, tokens: 3 };
  if (namespace === 'entities') return { ...base, entity_name: id };
  return { ...base, src_id: `${id}-a`, tgt_id: `${id}-b` };
}

for (const indexType of ['HNSW', 'HNSW_HALFVEC', 'IVFFLAT'] as const) {
  describe(`vector search in skewed workspaces, ${indexType}, on ${TARGET}`, () => {
    let db: Database;
    let config: Config;
    const vectors = new Map<Tenant, number[][]>();
    const next = random(7);
    for (const tenant of Object.keys(SIZES) as Tenant[])
      vectors.set(
        tenant,
        Array.from({ length: SIZES[tenant] }, () => Array.from({ length: DIM }, next)),
      );
    const queries = Array.from({ length: 8 }, () => Array.from({ length: DIM }, next));
    const storage = (namespace: VectorNamespace, tenant: Tenant, cfg = config) =>
      new VectorStorage(db, namespace, cfg.vector, new HashEmbedder(DIM), `ws_${tenant}`);

    before(async () => {
      const target = await createTestDatabase({
        EMBEDDING_DIM: String(DIM),
        POSTGRES_VECTOR_INDEX_TYPE: indexType,
        POSTGRES_IVFFLAT_LISTS: '20',
        POSTGRES_IVFFLAT_PROBES: '8',
        // Every match counts: this is about which rows come back, not the threshold.
        COSINE_THRESHOLD: '-1',
      });
      config = loadConfig(target.env);
      db = target.open();
      await ensureSchema(db, config.vector);
      for (const namespace of ['chunks', 'entities', 'relationships'] as const) {
        for (const [tenant, rows] of vectors) {
          await storage(namespace, tenant).upsert(
            rows.map((v, i) => record(namespace, `${tenant}-${i}`, v)) as never,
          );
        }
      }
      // IVFFlat lists are trained when the index is built: build it now that the data is in.
      const schema = await ensureSchema(db, config.vector);
      for (const table of Object.values(schema.vectorTables)) {
        if (indexType === 'IVFFLAT') await db.query(`REINDEX TABLE ${table}`);
        await db.query(`ANALYZE ${table}`);
      }
    });

    const exactTopK = (tenant: Tenant, q: number[], k: number) =>
      vectors
        .get(tenant)!
        .map((v, i) => ({ id: `${tenant}-${i}`, d: cosineDistance(v, q) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, k)
        .map((r) => r.id);

    for (const namespace of ['chunks', 'entities', 'relationships'] as const) {
      it(`${namespace}: k rows for every workspace, the exact top k for the small ones`, async () => {
        for (const tenant of ['medium', 'small', 'tiny'] as const) {
          const store = storage(namespace, tenant);
          let found = 0;
          let expected = 0;
          for (const q of queries) {
            const matches = await store.queryByVector(q, K);
            const want = exactTopK(tenant, q, K);
            assert.equal(matches.length, Math.min(K, SIZES[tenant]), `${tenant}: rows returned`);
            assert.ok(
              matches.every((m, i) => i === 0 || matches[i - 1]!.distance <= m.distance),
              'nearest first',
            );
            assert.ok(
              matches.every((m) => m.id.startsWith(`${tenant}-`)),
              'no other workspace',
            );
            if (tenant !== 'medium')
              assert.deepEqual(
                matches.map((m) => m.id),
                want,
                `${tenant}: exact top ${K}`,
              );
            found += matches.filter((m) => want.includes(m.id)).length;
            expected += want.length;
          }
          const recall = found / expected;
          // IVFFlat's own approximation (8 of 20 lists probed, uniformly random data) bounds it.
          const floor = indexType === 'IVFFLAT' ? 0.75 : 0.9;
          assert.ok(recall >= floor, `${namespace}/${tenant}: recall@${K} ${recall.toFixed(3)}`);
        }
      });
    }

    it('serves the medium workspace from the index scan alone when iterative scans exist', async (t) => {
      const schema = await ensureSchema(db, config.vector);
      if (!schema.iterativeScan || indexType === 'IVFFLAT') {
        t.skip(`pgvector ${schema.pgvectorVersion} / ${indexType}: the exact fallback serves it`);
        return;
      }
      // Plain search (1 statement), then at most the iterative one (BEGIN + SET LOCAL, SELECT,
      // COMMIT): the exact scan of the workspace (a fifth) is never needed.
      for (const q of queries) {
        const before = db.stats().queries;
        assert.equal((await storage('chunks', 'medium').queryByVector(q, K)).length, K);
        assert.ok(db.stats().queries - before <= 4, `${db.stats().queries - before} statements`);
      }
    });

    it('uses a partial index for a workspace listed in POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES', async (t) => {
      if (indexType === 'IVFFLAT') {
        t.skip('partial indexes are HNSW indexes');
        return;
      }
      const withPartial = loadConfig({
        EMBEDDING_DIM: String(DIM),
        POSTGRES_VECTOR_INDEX_TYPE: indexType,
        POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES: 'ws_medium',
        COSINE_THRESHOLD: '-1',
      });
      const vector = {
        ...config.vector,
        partialIndexWorkspaces: withPartial.vector.partialIndexWorkspaces,
      };
      const result = await ensureSchema(db, vector);
      assert.ok(
        result.repaired.some((r) => /_ws_[0-9a-f]{10}_hnsw$/.test(r)),
        result.repaired.join(),
      );
      await db.query(`ANALYZE ${result.vectorTables.chunks}`);
      const store = new VectorStorage(db, 'chunks', vector, new HashEmbedder(DIM), 'ws_medium');
      assert.match(await store.explain(queries[1]!, K), /_ws_[0-9a-f]{10}_hnsw/);
      const matches = await store.queryByVector(queries[1]!, K);
      assert.equal(matches.length, K);
      assert.ok(matches.every((m) => m.id.startsWith('medium-')));
      assert.throws(
        () => loadConfig({ POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES: "x'; DROP TABLE y" }),
        /POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES/,
      );
    });

    it('applies the cosine threshold after the top k (a far query returns nothing)', async () => {
      const strict = { ...config, vector: { ...config.vector, cosineThreshold: 0.99 } };
      const store = storage('chunks', 'small', strict);
      const own = vectors.get('small')![3]!;
      const matches = await store.queryByVector(own, K);
      assert.deepEqual(
        matches.map((m) => m.id),
        ['small-3'],
      );
    });
  });
}
