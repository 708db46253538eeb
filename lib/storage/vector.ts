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
import type { Embedder } from '../embedding/types.ts';
import { DimensionMismatchError, ValidationError } from '../errors.ts';
import { computeMdhashId } from '../text.ts';
import { queryVectorCast, vectorExpression } from './schema.ts';
import { type VectorNamespace, vectorTableName } from './tables.ts';
import { optionalString, requireInteger, requireString, typeOf } from './validate.ts';
import { vectorBinary } from './vector-codec.ts';
import {
  columnsFor,
  type Prepared,
  SELECTS,
  type VectorMatch,
  type VectorRecordFor,
  type VectorRow,
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
export class VectorStorage<N extends VectorNamespace> extends WorkspaceTable<VectorRow> {
  readonly namespace: N;
  readonly vector: VectorConfig;
  readonly embedder: Embedder;
  protected readonly selectList: string;
  readonly #columns: ColumnSpec<Prepared<VectorNamespace>>[];
  readonly #binary: boolean;

  constructor(
    db: Database,
    namespace: N,
    vector: VectorConfig,
    embedder: Embedder,
    workspace: string,
  ) {
    super(db, workspace, vectorTableName(namespace, vector));
    if (embedder.dimension !== vector.dimension) {
      throw new DimensionMismatchError(
        `The embedder ${embedder.name} produces ${embedder.dimension} dimensions but EMBEDDING_DIM is ${vector.dimension}; make them equal.`,
        { expected: vector.dimension, actual: embedder.dimension },
      );
    }
    this.namespace = namespace;
    this.vector = vector;
    this.embedder = embedder;
    this.selectList = `${SELECTS[namespace]}, ${epochColumn('create_time', 'created_at')}`;
    this.#columns = columnsFor(namespace, vector);
    // node-postgres and the Neon driver send a Buffer as a binary parameter; PGlite does not.
    this.#binary = db.config.driver !== 'pglite';
  }

  protected mapRow(row: Record<string, unknown>): VectorRow {
    return row as VectorRow;
  }

  /**
   * Inserts or updates records, embedding those without a `vector`. Every vector is checked
   * against `EMBEDDING_DIM` before anything is written.
   */
  async upsert(records: readonly VectorRecordFor<N>[], tx?: Queryable): Promise<number> {
    if (records.length === 0) return 0;
    for (const record of records) this.#validate(record);
    const missing = records.filter((r) => r.vector === undefined);
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
    return this.upsertRecords(prepared, this.#columns, { tx, form: 'values' });
  }

  /** The `topK` most similar rows to `query` above the cosine threshold, nearest first. */
  async query(
    query: string,
    topK: number,
    options: { threshold?: number } = {},
  ): Promise<VectorMatch[]> {
    if (typeof query !== 'string')
      throw new ValidationError(`query must be a string, got ${typeOf(query)}.`);
    const [embedding] = await this.embedder.embed([query], { purpose: 'query' });
    return this.queryByVector(embedding!, topK, options);
  }

  /** Like {@link query} with a vector already computed. */
  async queryByVector(
    queryVector: readonly number[],
    topK: number,
    options: { threshold?: number } = {},
  ): Promise<VectorMatch[]> {
    if (!Number.isInteger(topK) || topK < 1 || topK > 1000) {
      throw new ValidationError(`topK must be an integer from 1 to 1000, got ${typeOf(topK)}.`);
    }
    const { sql, params } = this.#similarity(queryVector, topK, options.threshold);
    const efSearch = this.vector.hnswEfSearch;
    const run = async (c: Queryable) => (await c.query<VectorMatch>(sql, params)).rows;
    if (
      efSearch === undefined ||
      this.vector.indexType === 'NONE' ||
      this.vector.indexType === 'IVFFLAT'
    ) {
      return run(this.db);
    }
    return this.db.withTransaction(async (tx) => {
      await tx.query(`SET LOCAL hnsw.ef_search = ${Math.trunc(efSearch)}`);
      return run(tx);
    });
  }

  /** The plan Postgres picks for a similarity query (diagnostics: is the vector index used?). */
  async explain(queryVector: readonly number[], topK: number): Promise<string> {
    const { sql, params } = this.#similarity(queryVector, topK);
    const { rows } = await this.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  #similarity(
    queryVector: readonly number[],
    topK: number,
    threshold = this.vector.cosineThreshold,
  ) {
    const q = this.#toVectorText(queryVector, 'query');
    const expr = vectorExpression(this.vector);
    const cast = queryVectorCast(this.vector);
    // `distance < bound ORDER BY distance LIMIT k`: the shape an HNSW/IVFFlat index can serve.
    const sql = `SELECT ${this.selectList}, (${expr} <=> $2::${cast})::float8 AS distance
      FROM ${this.table} WHERE workspace = $1 AND ${expr} <=> $2::${cast} < $3
      ORDER BY ${expr} <=> $2::${cast} LIMIT $4`;
    return { sql, params: [this.workspace, q, 1 - threshold, topK] };
  }

  /** Stored vectors by id; ids not stored are absent from the map. */
  async getVectorsByIds(ids: readonly string[]): Promise<Map<string, number[]>> {
    const wanted = validateIds(ids);
    if (wanted.length === 0) return new Map();
    const { rows } = await this.db.query<{ id: string; v: string }>(
      `SELECT id, content_vector::text AS v FROM ${this.table} WHERE workspace = $1 AND id = ANY($2::text[])`,
      [this.workspace, [...new Set(wanted)]],
    );
    return new Map(rows.map((r) => [r.id, pgvector.fromSql(r.v) as number[]]));
  }

  /** Deletes an entity's vector by name (id `ent-` + md5(name), as LightRAG computes it). */
  async deleteEntity(entityName: string): Promise<number> {
    if (this.namespace !== 'entities')
      throw new ValidationError('deleteEntity applies to the entities storage.');
    if (typeof entityName !== 'string' || entityName.length === 0) {
      throw new ValidationError('entityName must be a non-empty string.');
    }
    return this.delete([computeMdhashId(entityName, 'ent-')]);
  }

  /** Deletes every relation vector where the entity is source or target. */
  async deleteEntityRelation(entityName: string): Promise<number> {
    if (this.namespace !== 'relationships') {
      throw new ValidationError('deleteEntityRelation applies to the relationships storage.');
    }
    if (typeof entityName !== 'string' || entityName.length === 0) {
      throw new ValidationError('entityName must be a non-empty string.');
    }
    const { rowCount } = await this.db.query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND (source_id = $2 OR target_id = $2)`,
      [this.workspace, entityName],
    );
    return rowCount;
  }

  /** Deletes every chunk vector of one document. */
  async deleteByDocId(fullDocId: string, tx?: Queryable): Promise<number> {
    if (this.namespace !== 'chunks')
      throw new ValidationError('deleteByDocId applies to the chunks storage.');
    const { rowCount } = await (tx ?? this.db).query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND full_doc_id = $2`,
      [this.workspace, fullDocId],
    );
    return rowCount;
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
