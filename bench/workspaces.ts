/**
 * 7. Vector search in shared tables: workspaces holding 1 %, 10 % and 50 % of one HNSW-indexed
 * chunk table, each searched through the Neon driver with every alternative side by side —
 * LightRAG's plain filtered query (what this project ran before), a larger ef_search, pgvector's
 * iterative scans in strict and relaxed order (the default here), an exact scan, and a partial
 * HNSW index per workspace — against the same table searched without a filter.
 */
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import pgvector from 'pgvector';
import { Database } from '../lib/db/database.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import { applySchema, ensureSchema } from '../lib/storage/schema.ts';
import { VectorStorage } from '../lib/storage/vector.ts';
import { createBenchDatabase, quiet } from './lib/env.ts';
import { clusteredVectors, round, summary, timed } from './lib/stats.ts';

const K = 10;
const SHARES = [
  { workspace: 'ws_1pct', share: 0.01 },
  { workspace: 'ws_10pct', share: 0.1 },
  { workspace: 'ws_50pct', share: 0.5 },
] as const;

export interface WorkspaceRow {
  workspace: string;
  rowsInWorkspace: number;
  method: string;
  recallAt10: number;
  meanRows: number;
  /** Share of queries that returned k rows. */
  fullResults: number;
  p50: number;
  p95: number;
}

export async function workspaceRecall(total: number, dim: number, queries: number) {
  const bdb = await createBenchDatabase('workspaces');
  const env = { EMBEDDING_DIM: String(dim), COSINE_THRESHOLD: '-1' };
  const hnsw = await bdb.config('neon', env);
  const setup = new Database(hnsw.database, quiet);
  await ensureSchema(
    setup,
    (await bdb.config('neon', { ...env, POSTGRES_VECTOR_INDEX_TYPE: 'NONE' })).vector,
  );

  const all = clusteredVectors(total + queries, dim, 33);
  const probes = all.slice(total).map((q) => pgvector.toSql(q) as string);
  const owner = (i: number) => {
    let edge = 0;
    for (const { workspace, share } of SHARES) {
      edge += share * total;
      if (i < edge) return workspace;
    }
    return 'ws_rest';
  };
  const client = new pg.Client({ connectionString: bdb.url });
  await client.connect();
  const copy = client.query(
    copyFrom('COPY lightrag_vdb_chunks (workspace, id, content, content_vector) FROM STDIN'),
  );
  await streamPipeline(
    Readable.from(
      (function* () {
        for (let i = 0; i < total; i++)
          yield `${owner(i)}\tv-${i}\tvector ${i}\t${pgvector.toSql(all[i]!)}\n`;
      })(),
    ),
    copy,
  );
  const build = await timed(async () => {
    await client.query("SET maintenance_work_mem = '1GB'");
    await client.query(
      'CREATE INDEX idx_lightrag_vdb_chunks_hnsw_cosine ON lightrag_vdb_chunks USING hnsw (content_vector vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
    );
    await client.query('ANALYZE lightrag_vdb_chunks');
  });
  await ensureSchema(setup, hnsw.vector); // the index above is the one the schema expects

  const plainSql = (filtered: boolean) =>
    `SELECT id FROM lightrag_vdb_chunks ${filtered ? 'WHERE workspace = $1 AND content_vector <=> $2::vector < 2' : 'WHERE $1::text IS NOT NULL'}
      ORDER BY content_vector <=> $2::vector LIMIT ${K}`;
  type Search = (workspace: string, q: string) => Promise<string[]>;
  const raw =
    (sql: string, settings?: Record<string, number>): Search =>
    async (workspace, q) => {
      const run = async (c: Pick<Database, 'query'>) =>
        (await c.query<{ id: string }>(sql, [workspace, q])).rows.map((r) => r.id);
      return settings ? setup.withTransaction(run, { settings }) : run(setup);
    };
  const storage = (vector = hnsw.vector): Search => {
    const cache = new Map<string, VectorStorage<'chunks'>>();
    return async (workspace, q) => {
      let store = cache.get(workspace);
      if (!store) {
        store = new VectorStorage(setup, 'chunks', vector, new HashEmbedder(dim), workspace);
        cache.set(workspace, store);
      }
      return (await store.queryByVector(pgvector.fromSql(q) as number[], K)).map((m) => m.id);
    };
  };
  const methods: Array<[string, Search]> = [
    ['plain filtered query, ef_search 40 (LightRAG 1.5; this project before)', raw(plainSql(true))],
    ['plain filtered query, ef_search 400', raw(plainSql(true), { 'hnsw.ef_search': 400 })],
    ['iterative scan, strict order', storage({ ...hnsw.vector, iterativeScan: 'strict_order' })],
    ['plain search, then iterative scan (relaxed), then exact (default)', storage()],
    ['exact scan of the workspace', storage({ ...hnsw.vector, indexType: 'NONE' })],
  ];

  const truth = new Map<string, string[][]>();
  const exact = storage({ ...hnsw.vector, indexType: 'NONE' });
  for (const { workspace } of SHARES)
    truth.set(workspace, await Promise.all(probes.map((q) => exact(workspace, q))));

  const rows: WorkspaceRow[] = [];
  const measure = async (method: string, search: Search) => {
    for (const { workspace, share } of SHARES) {
      await search(workspace, probes[0]!); // warm
      const samples: number[] = [];
      let hits = 0;
      let returned = 0;
      let full = 0;
      for (const [i, q] of probes.entries()) {
        const { ms, value } = await timed(() => search(workspace, q));
        samples.push(ms);
        const want = new Set(truth.get(workspace)![i]);
        hits += value.filter((id) => want.has(id)).length;
        returned += value.length;
        if (value.length === K) full++;
      }
      const s = summary(samples);
      rows.push({
        workspace,
        rowsInWorkspace: Math.round(share * total),
        method,
        recallAt10: round(hits / (K * probes.length)),
        meanRows: round(returned / probes.length, 2),
        fullResults: round(full / probes.length),
        p50: s.p50,
        p95: s.p95,
      });
    }
  };
  for (const [method, search] of methods) await measure(method, search);

  // The unfiltered baseline: the same table, one tenant, the plain query.
  const unfilteredSamples: number[] = [];
  const unfiltered = raw(plainSql(false));
  await unfiltered('all', probes[0]!);
  for (const q of probes) unfilteredSamples.push((await timed(() => unfiltered('all', q))).ms);

  // A partial HNSW index per workspace (POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES), built by the
  // schema code and measured last, because the planner would pick it for every method above.
  const partialVector = {
    ...hnsw.vector,
    partialIndexWorkspaces: SHARES.map((x) => x.workspace),
  };
  const ddl = new Database({ ...hnsw.database, statementTimeoutMs: 0 }, quiet);
  const partial = await timed(async () => {
    await applySchema(ddl, partialVector);
    await ddl.query('ANALYZE lightrag_vdb_chunks');
  });
  await ddl.end();
  await measure(
    'partial HNSW index per workspace (POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES), default search',
    storage(partialVector),
  );
  await measure('partial HNSW index per workspace, plain query', raw(plainSql(true)));
  await client.end();
  await setup.end();
  return {
    total,
    dim,
    queries,
    indexBuildSeconds: round(build.ms / 1000, 1),
    partialIndexBuildSeconds: round(partial.ms / 1000, 1),
    unfiltered: summary(unfilteredSamples),
    rows,
  };
}
