/**
 * LightRAG's vector storage on pgvector: `chunks`, `entities` and `relationships`, each in its
 * (optionally model-suffixed) VDB table with a fixed-dimension column. Vectors are checked against
 * the configured dimension before any SQL runs; similarity queries take the shape an HNSW or
 * IVFFlat index can serve. Vectors are written in pgvector's binary format (vector-codec.ts),
 * one bind parameter each, and read back in its text form with the `pgvector` package.
 */
import pgvector from 'pgvector';
import type { VectorConfig } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { Embedder, EmbedderSource } from '../embedding/types.ts';
import { DimensionMismatchError, ValidationError } from '../errors.ts';
import { ensureSchema, type VectorLayout, vectorLayout } from './schema.ts';
import { type VectorNamespace, vectorTableName } from './tables.ts';
import { optionalString, requireInteger, requireString, typeOf } from './validate.ts';
import { vectorBinary } from './vector-codec.ts';
import {
  columnsFor,
  decodeVectorRow,
  type Prepared,
  SELECTS,
  type VectorMatch,
  type VectorRecordFor,
  type VectorRowFor,
} from './vector-records.ts';

export * from './vector-records.ts';

import { type ColumnSpec, epochColumn, validateIds, WorkspaceTable } from './workspace-table.ts';

/**
 * Vector storage for one namespace and workspace.
 *
 * @example
 * ```ts
 * const chunks = new VectorStorage(db, 'chunks', config.vector, embedder, 'default');
 * await chunks.upsert([{ id: 'chunk-1', content: 'text', full_doc_id: 'doc-1', chunk_order_index: 0, tokens: 1 }]);
 * const matches = await chunks.query('question', 5);
 * ```
 */
export class VectorStorage<N extends VectorNamespace> extends WorkspaceTable<VectorRowFor<N>> {
  readonly namespace: N;
  readonly vector: VectorConfig;
  readonly #embedder: () => Embedder;
  protected readonly selectList: string;
  /** The embedder of this table's vectors (made on first use when given as a factory). */
  get embedder(): Embedder {
    return this.#embedder();
  }
  readonly #columns: ColumnSpec<Prepared<VectorNamespace>>[];
  readonly #binary: boolean;

  constructor(
    db: Database,
    namespace: N,
    vector: VectorConfig,
    embedder: EmbedderSource,
    workspace: string,
  ) {
    super(db, workspace, vectorTableName(namespace, vector));
    // An embedder given is checked now; one made on first use (a function that never embeds,
    // like parse, never makes it) when it is made.
    const checked = (e: Embedder) => {
      if (e.dimension !== vector.dimension) {
        throw new DimensionMismatchError(
          `The embedder ${e.name} produces ${e.dimension} dimensions but EMBEDDING_DIM is ${vector.dimension}; make them equal.`,
          { expected: vector.dimension, actual: e.dimension },
        );
      }
      return e;
    };
    if (typeof embedder === 'function') this.#embedder = () => checked(embedder());
    else {
      const given = checked(embedder);
      this.#embedder = () => given;
    }
    this.namespace = namespace;
    this.vector = vector;
    this.selectList = `${SELECTS[namespace]}, ${epochColumn('create_time', 'created_at')}`;
    this.#columns = columnsFor(namespace, vector);
    // node-postgres and the Neon driver send a Buffer as a binary parameter; PGlite does not.
    this.#binary = db.config.driver !== 'pglite';
  }

  protected mapRow(row: Record<string, unknown>): VectorRowFor<N> {
    return decodeVectorRow(this.namespace, row);
  }

  /**
   * Inserts or updates records, embedding those without a `vector` (outside a transaction only:
   * inside one every vector must be given). Every vector is checked against `EMBEDDING_DIM`
   * before anything is written.
   */
  async upsert(records: readonly VectorRecordFor<N>[]): Promise<number> {
    if (records.length === 0) return 0;
    for (const record of records) this.#validate(record);
    const missing = records.filter((r) => r.vector === undefined);
    if (this.inTransaction && missing.length > 0) {
      // An embedding call would hold the transaction's locks and connection for its duration.
      throw new TypeError(
        `VectorStorage.upsert inside a transaction needs every vector computed beforehand (${missing.length} missing).`,
      );
    }
    const embedded =
      missing.length > 0 ? await this.embedder.embed(missing.map((r) => r.content)) : [];
    if (embedded.length !== missing.length) {
      throw new ValidationError(
        `The embedder returned ${embedded.length} vectors for ${missing.length} texts.`,
        { expected: missing.length, actual: embedded.length },
      );
    }
    const computed = new Map(missing.map((r, i) => [r, embedded[i]!]));
    const prepared = records.map((r) => {
      const values = r.vector ?? computed.get(r)!;
      this.#checkVector(values, r.id);
      // Binary (pgvector's wire format) where the driver sends Buffers as binary parameters.
      const vectorParam = this.#binary ? vectorBinary(values) : pgvector.toSql(values as number[])!;
      return { ...r, vectorParam } as Prepared<VectorNamespace>;
    });
    return this.upsertRecords(prepared, this.#columns, { form: 'values' });
  }

  /** The `topK` most similar rows to `query` above the cosine threshold, nearest first. */
  async query(
    query: string,
    topK: number,
    options: { threshold?: number } = {},
  ): Promise<VectorMatch<N>[]> {
    if (typeof query !== 'string')
      throw new ValidationError(`query must be a string, got ${typeOf(query)}.`);
    const [embedding] = await this.embedder.embed([query], { purpose: 'query' });
    return this.queryByVector(embedding!, topK, options);
  }

  /**
   * Like {@link query} with a vector already computed. Returns the workspace's `topK` nearest
   * rows however small the workspace is next to the others in the table. The plain index search
   * comes first (one round trip); when it comes back short — pgvector filters the workspace after
   * the approximate scan — the scan runs again continuing until it has `topK` rows of this
   * workspace (pgvector ≥ 0.8 iterative scans, in a transaction carrying the settings), and a
   * result still short (a workspace of fewer rows, a scan that hit `hnsw.max_scan_tuples`,
   * pgvector < 0.8) is answered by an exact scan of the workspace alone.
   * The cosine threshold applies after the top `topK` are found, so it never prolongs a scan.
   */
  async queryByVector(
    queryVector: readonly number[],
    topK: number,
    options: { threshold?: number } = {},
  ): Promise<VectorMatch<N>[]> {
    if (!Number.isInteger(topK) || topK < 1 || topK > 1000) {
      throw new ValidationError(`topK must be an integer from 1 to 1000, got ${typeOf(topK)}.`);
    }
    const bound = 1 - (options.threshold ?? this.vector.cosineThreshold);
    const schema = await ensureSchema(this.db, this.vector);
    const layout = vectorLayout(this.vector, schema.vectorColumns[this.namespace]);
    const params = [this.workspace, this.#toVectorText(queryVector, 'query'), topK];
    const run = async (c: Queryable, exact: boolean) =>
      (await c.query(this.#similaritySql(layout, exact), params)).rows.map(
        (row) => this.mapRow(row) as VectorMatch<N>,
      );
    const attempt = (settings: Record<string, string | number>) =>
      Object.keys(settings).length
        ? this.db.withTransaction((tx) => run(tx, false), { settings })
        : run(this.db, false);
    let rows: VectorMatch<N>[];
    if (this.vector.indexType === 'NONE') rows = await run(this.db, true);
    else {
      // 1. The plain index search (one round trip unless settings are configured): complete for a
      //    workspace that is most of its table, or small enough that Postgres reads it exactly.
      rows = await attempt(this.#scanSettings(false));
      // 2. Short: the index scan continues until it has topK rows of this workspace.
      const iterative = schema.iterativeScan && this.vector.iterativeScan !== 'off';
      if (rows.length < topK && iterative) rows = await attempt(this.#scanSettings(true));
      // 3. Still short: fewer rows than topK, max_scan_tuples reached, or pgvector < 0.8.
      if (rows.length < topK) rows = await run(this.db, true);
    }
    // Relaxed order returns the nearest rows slightly out of order: sort, then apply the bound.
    return rows.sort((a, b) => a.distance - b.distance).filter((r) => r.distance < bound);
  }

  /** The plan Postgres picks for a similarity query (diagnostics: is the vector index used?). */
  async explain(queryVector: readonly number[], topK: number): Promise<string> {
    const schema = await ensureSchema(this.db, this.vector);
    const layout = vectorLayout(this.vector, schema.vectorColumns[this.namespace]);
    const sql = `EXPLAIN ${this.#similaritySql(layout, false)}`;
    const params = [this.workspace, this.#toVectorText(queryVector, 'query'), topK];
    const settings = this.#scanSettings(
      schema.iterativeScan && this.vector.iterativeScan !== 'off',
    );
    const { rows } = await this.db.withTransaction(
      (tx) => tx.query<{ 'QUERY PLAN': string }>(sql, params),
      {
        settings,
      },
    );
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  /**
   * The nearest `$3` rows of workspace `$1` to `$2`. `ORDER BY distance` is the shape an HNSW or
   * IVFFlat index serves; the exact form orders by an expression no index matches, so Postgres
   * reads the workspace's rows through its primary key and sorts them.
   */
  #similaritySql(layout: VectorLayout, exact: boolean): string {
    const distance = `${layout.expression} <=> $2::${layout.cast}`;
    return `SELECT ${this.selectList}, (${distance})::float8 AS distance
      FROM ${this.table} WHERE workspace = $1
      ORDER BY ${exact ? `(${distance}) + 0` : distance} LIMIT $3`;
  }

  /**
   * `SET LOCAL` settings of an approximate search, with or without an iterative scan; empty when
   * the server defaults apply.
   */
  #scanSettings(iterative: boolean): Record<string, string | number> {
    const settings: Record<string, string | number> = {};
    if (this.vector.indexType === 'IVFFLAT') {
      settings['ivfflat.probes'] = this.vector.ivfflatProbes;
      // IVFFlat scans only in relaxed order.
      if (iterative) settings['ivfflat.iterative_scan'] = 'relaxed_order';
      return settings;
    }
    if (iterative) {
      settings['hnsw.iterative_scan'] = this.vector.iterativeScan;
      settings['hnsw.max_scan_tuples'] = this.vector.maxScanTuples;
    }
    if (this.vector.hnswEfSearch !== undefined)
      settings['hnsw.ef_search'] = this.vector.hnswEfSearch;
    return settings;
  }

  /** Stored vectors by id; ids not stored are absent from the map. */
  async getVectorsByIds(ids: readonly string[]): Promise<Map<string, number[]>> {
    const wanted = validateIds(ids);
    if (wanted.length === 0) return new Map();
    const { rows } = await this.q.query<{ id: string; v: string }>(
      `SELECT id, content_vector::text AS v FROM ${this.table} WHERE workspace = $1 AND id = ANY($2::text[])`,
      [this.workspace, [...new Set(wanted)]],
    );
    return new Map(rows.map((r) => [r.id, pgvector.fromSql(r.v) as number[]]));
  }

  #validate(record: VectorRecordFor<N>): void {
    if (record === null || typeof record !== 'object') {
      throw new ValidationError(`Each record must be an object, got ${typeOf(record)}.`);
    }
    requireString(record, 'content');
    optionalString(record, 'file_path');
    if (this.namespace === 'chunks') {
      requireString(record, 'full_doc_id', { maxLength: 256 });
      requireInteger(record, 'chunk_order_index');
      requireInteger(record, 'tokens');
    } else if (this.namespace === 'entities') {
      requireString(record, 'entity_name', { maxLength: 512 });
      optionalString(record, 'source_id');
    } else {
      requireString(record, 'src_id', { maxLength: 512 });
      requireString(record, 'tgt_id', { maxLength: 512 });
      optionalString(record, 'source_id');
    }
  }

  #toVectorText(values: readonly number[], id: string): string {
    this.#checkVector(values, id);
    return pgvector.toSql(values as number[])!;
  }

  #checkVector(values: readonly number[], id: string): void {
    if (!Array.isArray(values)) {
      throw new ValidationError(
        `Vector for ${id} must be an array of numbers, got ${typeOf(values)}.`,
        { id },
      );
    }
    if (values.length !== this.vector.dimension) {
      throw new DimensionMismatchError(
        `Vector for ${id} has ${values.length} dimensions but EMBEDDING_DIM is ${this.vector.dimension}.`,
        { expected: this.vector.dimension, actual: values.length },
      );
    }
    for (const v of values) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ValidationError(`Vector for ${id} contains a non-finite value (${String(v)}).`, {
          id,
        });
      }
    }
  }
}
